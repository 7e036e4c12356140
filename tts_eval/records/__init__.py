"""Records: everything one request's strategy did, kept so a run can be re-graded."""

from tts_eval.records.schema import (
    SCHEMA_VERSION,
    ModelRecord,
    SampleRecord,
    TTSRecord,
    parse_record,
)

__all__ = ["SCHEMA_VERSION", "ModelRecord", "SampleRecord", "TTSRecord",
           "parse_record"]
