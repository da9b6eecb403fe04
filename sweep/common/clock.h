/* The tools' clock: seconds on CLOCK_MONOTONIC, for wall times and ETAs. */
#ifndef MUP_TOOL_CLOCK_H
#define MUP_TOOL_CLOCK_H

double mup_tool_now(void);

#endif
