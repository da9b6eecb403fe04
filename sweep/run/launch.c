#include "launch.h"

#include <string.h>

bool mup_launch_job_variable(const char *entry) {
    /* Open MPI 4's mpirun refuses to start ("does not support recursive calls") while any of its job's
     * facts are set; PMIx and PMI would attach the launcher's processes to the sweep's job */
    static const char *const prefixes[] = {
        "OMPI_COMM_WORLD_", "OMPI_MCA_orte_", "OMPI_MCA_ess", "OMPI_MCA_pmix", "OMPI_MCA_initial_wdir=",
        "OMPI_MCA_shmem_RUNTIME_QUERY_hint=", "OMPI_APP_CTX_NUM_PROCS=", "OMPI_NUM_APP_CTX=", "OMPI_FIRST_RANKS=",
        "OMPI_FILE_LOCATION=", "OMPI_COMMAND=", "OMPI_ARGV=", "OMPI_UNIVERSE_SIZE=", "PMIX_", "PMI_", "HYDRA_",
        "HYDI_", "MPI_LOCALNRANKS=", "MPI_LOCALRANKID=",
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(entry, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}
