/* Configs of program runs (sweep/config/config.c, space.c, program.c): free key names, their types, the
 * canonical form, and what is refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "config.h"
#include "launch.h"
#include "program.h"
#include "journal.h" /* and the sweep's runs.h, which tests/support/runs.h would shadow */
#include "sampler.h"
#include "testing.h"

static mup_sweep_config *parse(const char *text) {
    char *json = test_json_quotes(text);
    mup_sweep_config *c = NULL;
    mup_status s = mup_sweep_config_parse(json, "t.json", &c);
    free(json);
    cr_assert_eq(s, MUP_OK, "%s", mup_error_message());
    return c;
}

static void refused(const char *text, const char *needle) {
    char *json = test_json_quotes(text);
    mup_sweep_config *c = NULL;
    cr_assert_neq(mup_sweep_config_parse(json, "t.json", &c), MUP_OK, "accepted: %s", json);
    cr_assert(strstr(mup_error_message(), needle), "\"%s\" not in: %s", needle, mup_error_message());
    cr_assert_null(c);
    free(json);
}

#define HEAD "{'objective': 'acc', 'direction': 'maximize', 'program': {'command': ['train', '--lr={lr}', '{{x}}']},"
static const char *CONFIG =
    HEAD " 'search': {'sampler': 'random', 'trials': 4, 'space': {"
    "   'warmup': {'dist': 'int', 'low': 0, 'high': 100},"
    "   'lr': {'dist': 'log2uniform', 'low': -12, 'high': -4},"
    "   'act': {'dist': 'choice', 'values': ['relu', 'gelu']},"
    "   'tied': {'dist': 'choice', 'values': [true, false]}}},"
    " 'proxy_widths': [32, 64], 'target': {'width': 256}}";

Test(program_config, free_names_get_types_from_their_distributions_in_name_order) {
    mup_sweep_config *c = parse(CONFIG);
    cr_assert_eq(c->kind, MUP_RUN_PROGRAM);
    cr_assert_str_eq(mup_sweep_objective(c), "-acc");
    cr_assert_eq(c->search.n_dims, 4);
    const char *names[] = {"act", "lr", "tied", "warmup"};
    mup_key_type types[] = {MUP_KEY_ENUM, MUP_KEY_FLOAT, MUP_KEY_BOOL, MUP_KEY_INT};
    for (int d = 0; d < 4; d++) {
        cr_assert_str_eq(c->search.dims[d].key->name, names[d]);
        cr_assert_eq(c->search.dims[d].key->type, types[d], "%s", names[d]);
    }
    /* values reach the run spec and its journal form */
    mup_run_list l;
    cr_assert_eq(mup_run_list_make(c, &l), MUP_OK);
    cr_assert(strstr(l.runs[0].spec_text, "\"program\":{\"act\":"), "%s", l.runs[0].spec_text);
    cr_assert_null(strstr(l.runs[0].spec_text, "\"train\""), "%s", l.runs[0].spec_text);
    mup_run_list_free(&l);
    mup_sweep_config_free(c);
}

Test(program_config, the_canonical_form_parses_back_and_ignores_key_order) {
    mup_sweep_config *c = parse(CONFIG);
    cJSON *json = mup_sweep_config_to_json(c);
    char *canon = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    mup_sweep_config *back = NULL;
    cr_assert_eq(mup_sweep_config_parse(canon, "canon", &back), MUP_OK, "%s: %s", canon, mup_error_message());
    cr_assert_str_eq(back->fingerprint, c->fingerprint);
    /* the same space written in another order */
    mup_sweep_config *other = parse(HEAD " 'search': {'sampler': 'random', 'trials': 4, 'space': {"
                                    "   'tied': {'dist': 'choice', 'values': [true, false]},"
                                    "   'act': {'dist': 'choice', 'values': ['relu', 'gelu']},"
                                    "   'lr': {'dist': 'log2uniform', 'low': -12, 'high': -4},"
                                    "   'warmup': {'dist': 'int', 'low': 0, 'high': 100}}},"
                                    " 'proxy_widths': [32, 64], 'target': {'width': 256}}");
    cr_assert_str_eq(other->fingerprint, c->fingerprint);
    cJSON_free(canon);
    mup_sweep_config_free(back);
    mup_sweep_config_free(other);
    mup_sweep_config_free(c);
}

Test(program_config, a_built_in_config_keeps_its_fingerprint_free_of_direction) {
    mup_sweep_config *c = parse("{'model': {'arch': 'mlp'}, 'data': {'dataset': 'synthetic'},"
                                " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [0.1]}}},"
                                " 'proxy_widths': [16]}");
    cJSON *json = mup_sweep_config_to_json(c);
    char *canon = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    cr_assert_null(strstr(canon, "direction"), "%s", canon);
    cJSON_free(canon);
    mup_sweep_config_free(c);
}

Test(program_config, bad_program_configs_are_refused_naming_the_key) {
    refused("{'objective': 'acc', 'program': {'command': []},"
            " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}",
            "program.command: expected a non-empty list");
    refused("{'program': {'command': ['t']},"
            " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}",
            "objective: missing");
    refused("{'objective': 'acc', 'program': {'command': ['t', '{lr'], 'timeout': -1},"
            " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}",
            "program.timeout");
    refused("{'objective': 'acc', 'program': {'command': ['t', '{lr'], 'cwdd': '/'},"
            " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}",
            "program.cwdd: unknown key (did you mean \"cwd\"?)");
    refused("{'objective': 'acc', 'program': {'command': ['t', '{lr']},"
            " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}",
            "program.command[1]: a '{' without a name");
    refused("{'objective': 'acc', 'program': {'command': ['t', 'a}b']},"
            " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}",
            "a lone '}'");
    refused("{'objective': 'acc', 'program': {'command': ['{lr}']},"
            " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}",
            "program.command[0]: the command itself takes no {lr}");
    refused("{'objective': 'acc', 'program': {'command': ['t'], 'env': {'A B': 'x'}},"
            " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}",
            "is not a variable name");
    refused("{'objective': 'acc', 'mup': {'base_width': 8, 'delta_width': 8}, 'program': {'command': ['t']},"
            " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}",
            "mup.delta_width: must differ");
    refused("{'objective': 'acc', 'mup': {'output_mult': 2}, 'program': {'command': ['t']},"
            " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}",
            "mup.output_mult: a program run takes only mup.base_width and mup.delta_width");
    refused("{'objective': 'val_loss', 'direction': 'maximize', 'model': {'arch': 'mlp'},"
            " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}",
            "direction: val_loss is a loss");
}

Test(program_config, trial_fields_and_searched_keys_are_the_substitutions) {
    mup_sweep_config *c = parse(
        "{'objective': 'acc', 'program': {'command': ['t', '{run_id}{width}{base_width}{delta_width}{seed}',"
        " '{run_dir}/{checkpoint}/{trial_file}/{phase}', '--lr={lr}', '{{literal}}']},"
        " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}");
    cr_assert_eq(mup_program_check_args(c), MUP_OK, "%s", mup_error_message());
    mup_sweep_config_free(c);
}

#define MPI_TAIL " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'choice', 'values': [1]}}}, 'proxy_widths': [8]}"

Test(program_config, a_program_that_can_use_mpi_gets_a_launcher_of_its_own_or_mpirun) {
    mup_sweep_config *c = parse("{'objective': 'acc', 'program': {'command': ['t', '{ranks}'], 'mpi': true}," MPI_TAIL);
    const char *mpirun[] = {"mpirun", "-n", "{ranks}", "--host", "{hosts}"};
    cr_assert_eq(c->program.launcher_argc, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_str_eq(c->program.launcher[i], mpirun[i]);
    cr_assert_eq(mup_program_check_args(c), MUP_OK, "%s", mup_error_message());
    /* the launcher is part of the config: another launcher is another sweep */
    mup_sweep_config *srun = parse("{'objective': 'acc', 'program': {'command': ['t', '{ranks}'], 'mpi': true,"
                                   " 'launcher': ['srun', '--overlap', '-n', '{ranks}']}," MPI_TAIL);
    cr_assert_eq(srun->program.launcher_argc, 4);
    cr_assert_str_eq(srun->program.launcher[1], "--overlap");
    cr_assert_str_neq(srun->fingerprint, c->fingerprint);
    /* a config without the key keeps the fingerprint it had before the key existed */
    mup_sweep_config *plain = parse("{'objective': 'acc', 'program': {'command': ['t']}," MPI_TAIL);
    mup_sweep_config *off = parse("{'objective': 'acc', 'program': {'command': ['t'], 'mpi': false}," MPI_TAIL);
    cr_assert_str_eq(plain->fingerprint, off->fingerprint);
    cJSON *json = mup_sweep_config_to_json(plain);
    char *canon = cJSON_PrintUnformatted(json);
    cr_assert_null(strstr(canon, "mpi"), "%s", canon);
    cr_assert_null(strstr(canon, "launcher"), "%s", canon);
    cJSON_free(canon);
    cJSON_Delete(json);
    mup_sweep_config_free(plain);
    mup_sweep_config_free(off);
    mup_sweep_config_free(srun);
    mup_sweep_config_free(c);
}

Test(program_config, bad_launchers_are_refused_naming_the_argument) {
    refused("{'objective': 'acc', 'program': {'command': ['t'], 'launcher': ['mpirun']}," MPI_TAIL,
            "program.launcher: given without \"mpi\": true");
    refused("{'objective': 'acc', 'program': {'command': ['t'], 'mpi': true, 'launcher': []}," MPI_TAIL,
            "program.launcher: expected a non-empty list");
    refused("{'objective': 'acc', 'program': {'command': ['t'], 'mpi': true, 'launcher': ['mpirun', 7]}," MPI_TAIL,
            "program.launcher[1]: expected a string");
    refused("{'objective': 'acc', 'program': {'command': ['t'], 'mpi': true, 'launcher': ['mpirun', '-n', '{width}']},"
            MPI_TAIL, "program.launcher[2]: {width} is not {ranks} or {hosts}");
    refused("{'objective': 'acc', 'program': {'command': ['t'], 'mpi': true, 'launcher': ['{hosts}']}," MPI_TAIL,
            "program.launcher[0]: the command itself takes no {hosts}");
    refused("{'objective': 'acc', 'program': {'command': ['t', '{hosts}'], 'mpi': true}," MPI_TAIL,
            "program.command[1]: {hosts} is neither a searched key nor a trial field");
    refused("{'objective': 'acc', 'program': {'command': ['t'], 'mpi': 1}," MPI_TAIL, "program.mpi");
}

Test(program_config, the_sweeps_own_launcher_variables_do_not_reach_a_launcher) {
    const char *dropped[] = {"OMPI_COMM_WORLD_RANK=1", "OMPI_MCA_orte_hnp_uri=1.0;tcp://x", "OMPI_MCA_ess=pmi",
                             "OMPI_UNIVERSE_SIZE=2", "PMIX_RANK=1", "PMI_FD=5", "MPI_LOCALRANKID=0"};
    const char *kept[] = {"OMPI_MCA_btl=^openib", "OMPI_ALLOW_RUN_AS_ROOT=1", "SLURM_JOB_ID=7", "PATH=/bin",
                          "OMP_NUM_THREADS=2", "PMIXED=1"};
    for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++)
        cr_assert(mup_launch_job_variable(dropped[i]), "%s", dropped[i]);
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        cr_assert_not(mup_launch_job_variable(kept[i]), "%s", kept[i]);
}
