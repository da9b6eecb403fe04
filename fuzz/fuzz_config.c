/* The sweep config reader: any bytes parse to a config or a status, never a crash. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_setup();
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    mup_sweep_config *c = NULL;
    if (mup_sweep_config_parse(text, "fuzz.json", &c) == MUP_OK) {
        cJSON *j = mup_sweep_config_to_json(c);
        cJSON_Delete(j);
        mup_sweep_config_free(c);
    }
    free(text);
    return 0;
}
