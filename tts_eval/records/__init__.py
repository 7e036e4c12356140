"""Records: everything one request's strategy did, kept so a run can be re-graded."""

from tts_eval.records.schema import (
    SCHEMA_VERSION,
    ModelRecord,
    NodeRecord,
    SampleRecord,
    TTSRecord,
    parse_record,
)

__all__ = ["SCHEMA_VERSION", "ModelRecord", "NodeRecord", "SampleRecord", "TTSRecord",
           "parse_record"]
