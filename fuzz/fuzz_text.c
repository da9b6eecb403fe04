/* The text corpus reader and splitter. */
#include "fuzz_common.h"
#include "mup/mup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_setup();
    const char *path = fuzz_write("corpus.txt", data, size);
    mup_text_data all, train, val;
    if (mup_text_load_files(&path, 1, &all) != MUP_OK)
        return 0;
    if (mup_text_split(&all, 0.1, &train, &val) == MUP_OK) {
        mup_text_unigram_entropy(&train);
        mup_text_data_free(&train);
        mup_text_data_free(&val);
    }
    mup_text_data_free(&all);
    return 0;
}
