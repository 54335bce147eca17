"""The sync: jobs moving records in and out, their settings, record states and field mappings."""

from app.integrations.sync.inbound import apply_remote_contact
from app.integrations.sync.jobs import (
    FINAL_STATUSES,
    RUN_SYNC,
    SyncRefused,
    cancel_sync,
    default_direction,
    job_errors,
    queue_sync_job,
    resume_stalled_syncs,
    resume_sync,
    run_scheduled_syncs,
    run_sync,
    start_sync,
    sync_history,
    sync_job,
)
from app.integrations.sync.mapping_defaults import MappingSpec, default_mappings
from app.integrations.sync.mappings import (
    MappingError,
    build_inbound,
    build_outbound,
    mappings_for,
    save_mappings,
    validate_rows,
)
from app.integrations.sync.problems import (
    MAX_PROBLEM_PAGE_SIZE,
    PROBLEM_PAGE_SIZE,
    ProblemPage,
    record_of,
    record_problems,
)
from app.integrations.sync.records import LISTED_ALL, as_uuid, is_uuid, sync_record
from app.integrations.sync.settings import (
    SETTING_FIELDS,
    batch_limit,
    check_combination,
    form_values,
    read_sync_settings,
    settings_to_dict,
)
from app.integrations.sync.transforms import TRANSFORMS

__all__ = [
    "FINAL_STATUSES",
    "LISTED_ALL",
    "MAX_PROBLEM_PAGE_SIZE",
    "MappingError",
    "MappingSpec",
    "PROBLEM_PAGE_SIZE",
    "ProblemPage",
    "RUN_SYNC",
    "SETTING_FIELDS",
    "SyncRefused",
    "TRANSFORMS",
    "apply_remote_contact",
    "as_uuid",
    "batch_limit",
    "build_inbound",
    "build_outbound",
    "cancel_sync",
    "check_combination",
    "default_direction",
    "default_mappings",
    "form_values",
    "is_uuid",
    "job_errors",
    "mappings_for",
    "queue_sync_job",
    "read_sync_settings",
    "record_of",
    "record_problems",
    "resume_stalled_syncs",
    "resume_sync",
    "run_scheduled_syncs",
    "run_sync",
    "save_mappings",
    "settings_to_dict",
    "start_sync",
    "sync_history",
    "sync_job",
    "sync_record",
    "validate_rows",
]
