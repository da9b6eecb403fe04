/* The text corpus reader and splitter, then the language-model task's set-up on what they give and
 * one training step: a corpus that loads must either be refused by the task with a status or train. */
#include "fuzz_common.h"
#include "mup/mup.h"

#define BLOCK 8

static void train_one_step(const mup_text_data *train, const mup_text_data *val) {
    mup_model *M = mup_model_new();
    mup_gpt *gpt = mup_gpt_new(M, &(mup_gpt_config){.vocab = train->vocab, .block_size = BLOCK, .width = 8,
                                                    .head_dim = 4, .n_layer = 1});
    if (mup_set_base_shapes(M, NULL, NULL) == MUP_OK) {
        mup_model_init(M, 1);
        fuzz_train(M, mup_lm_task_new(M, mup_gpt_forward_fn, gpt, train, val, 2, BLOCK, 1, 1),
                   (mup_train_opts){.steps = 1});
    }
    mup_gpt_free(gpt);
    mup_model_free(M);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_setup();
    const char *path = fuzz_write("corpus.txt", data, size);
    mup_text_data all, train, val;
    if (mup_text_load_files(&path, 1, &all) != MUP_OK)
        return 0;
    if (mup_text_split(&all, 0.1, &train, &val) == MUP_OK) {
        mup_text_unigram_entropy(&train);
        train_one_step(&train, &val);
        mup_text_data_free(&train);
        mup_text_data_free(&val);
    }
    mup_text_data_free(&all);
    return 0;
}
