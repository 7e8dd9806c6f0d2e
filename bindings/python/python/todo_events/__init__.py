"""todo-events in Python: the CloudEvents of the event catalog, the chat
interpreter, the filter language, the recurrence engine, and a Kafka publisher and consumer.

Everything is implemented in Rust (the todo-core and todo-kafka crates) and
re-exported here from the native module ``todo_events._native``.
"""

from ._native import (
    SPEC_VERSION,
    CloudEvent,
    Consumer,
    EventError,
    EventFactory,
    EventType,
    Filter,
    FilterError,
    KafkaError,
    Publisher,
    Record,
    TodoEventsError,
    Topic,
    ValidationError,
    __version__,
    ensure_topics,
    first_occurrence,
    next_occurrence,
    parse_command,
    validate_rrule,
)

__all__ = [
    "SPEC_VERSION",
    "CloudEvent",
    "Consumer",
    "EventError",
    "EventFactory",
    "EventType",
    "Filter",
    "FilterError",
    "KafkaError",
    "Publisher",
    "Record",
    "TodoEventsError",
    "Topic",
    "ValidationError",
    "__version__",
    "ensure_topics",
    "first_occurrence",
    "next_occurrence",
    "parse_command",
    "validate_rrule",
]
