/* Configs that are legal JSON and pass every key's check, but are likely mistakes: the ones that can
 * only be wrong are refused, the ones that may be meant are warned about (mup_log). */
#ifndef MUP_SWEEP_LINT_H
#define MUP_SWEEP_LINT_H

#include <cjson/cJSON.h>

#include "config.h"

/* Checks a loaded config against the JSON it came from (to tell a key that is set from a default).
 * MUP_ERR_INVALID naming the key for grid points under a sampler that is not grid; warnings for a
 * target narrower than the widest proxy, log2uniform bounds that look like values rather than
 * exponents, and a key both set and searched. */
mup_status mup_sweep_config_lint(const mup_sweep_config *c, const cJSON *root);

#endif
