"""Names of every environment variable rundocs reads, and the project folder it keeps its cache in."""

from __future__ import annotations

#: Folder that runs are written to when ``Run(dir=...)`` is not given.
RUNDOCS_DIR = "RUNDOCS_DIR"

#: Id of the run ``rundocs run`` records for the command it started; a ``Run`` the command
#: opens is tagged ``parent:<id>``.
RUNDOCS_PARENT_RUN = "RUNDOCS_PARENT_RUN"

#: "1": read runs and plans through symlinks (a trusted setup whose runs live on another volume).
RUNDOCS_TRUST_SYMLINKS = "RUNDOCS_TRUST_SYMLINKS"

#: torchrun / torch.distributed: global rank and world size of this process.
RANK = "RANK"
LOCAL_RANK = "LOCAL_RANK"
WORLD_SIZE = "WORLD_SIZE"

#: SLURM job identity.
SLURM_JOB_ID = "SLURM_JOB_ID"
SLURM_JOB_NAME = "SLURM_JOB_NAME"
SLURM_ARRAY_JOB_ID = "SLURM_ARRAY_JOB_ID"
SLURM_ARRAY_TASK_ID = "SLURM_ARRAY_TASK_ID"

#: Reproducible builds: "now" for derived state and dates, in seconds since the epoch.
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"

#: Folder where a run written to an object store (``RUNDOCS_DIR=s3://...``) is staged before
#: each upload; default ``$XDG_CACHE_HOME/rundocs/staging`` (``~/.cache/rundocs/staging``).
RUNDOCS_STAGING = "RUNDOCS_STAGING"

#: The folder, relative to the project, where every command and the plugin keep what they parsed
#: (runs, the page manifest, a store's mirror, the plugin's page cache) unless told another.
DEFAULT_CACHE = ".rundocs-cache"
