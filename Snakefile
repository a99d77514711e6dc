# stdnet: balanced E/I rate networks with short-term depression.
# Run:  snakemake --cores 2           (default sweep, config/params.yaml)
#       snakemake --cores 32 --configfile config/paper.yaml
from snakemake.utils import min_version

min_version("8.10")


configfile: "config/params.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulation.smk"
include: "workflow/rules/stability.smk"
include: "workflow/rules/lyapunov.smk"
include: "workflow/rules/onset.smk"
include: "workflow/rules/transition.smk"
include: "workflow/rules/correlations.smk"
include: "workflow/rules/dmf.smk"
include: "workflow/rules/heterogeneity.smk"
include: "workflow/rules/workflow.smk"


keep_previous_version_on_failure(workflow.rules)


onstart:
    refuse_jobs_larger_than_this_machine()
    refuse_a_run_without_room_for_backups()
    claim_results()
    remember_tables()


onerror:
    date_back_restored_tables()


rule all:
    default_target: True
    input:
        get_final_output(),
