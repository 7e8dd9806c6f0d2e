"""Type stubs of todo_events, the Python bindings of todo-events (Rust).

Datetimes are accepted as timezone-aware ``datetime`` objects or RFC 3339 text
and returned as timezone-aware ``datetime`` objects in UTC. Time zones are IANA
names or ``zoneinfo.ZoneInfo`` objects.
"""

import sys
from datetime import datetime
from types import TracebackType
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Sequence, Tuple, Type, Union, final

if sys.version_info >= (3, 11):
    from typing import Self
else:
    from typing_extensions import Self

from zoneinfo import ZoneInfo

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

__version__: str
SPEC_VERSION: str
"""The CloudEvents ``specversion`` this build writes and accepts: ``"1.0"``."""

_Instant = Union[datetime, str]
"""A timezone-aware ``datetime`` or RFC 3339 text such as ``"2026-11-26T09:00:00Z"``."""

_TimeZone = Union[str, ZoneInfo]
"""An IANA time zone name such as ``"Europe/Berlin"``, or a ``zoneinfo.ZoneInfo``."""

_JsonText = Union[str, bytes, bytearray]

# ----------------------------------------------------------------- exceptions

class TodoEventsError(Exception):
    """Base class of every error raised by todo_events."""

class ValidationError(TodoEventsError):
    """A value that does not parse or breaks a rule (a bad RRULE, time zone or datetime)."""

    field: str
    """The argument or field at fault, e.g. ``"recurrence"``, ``"tz"``."""

class FilterError(ValidationError):
    """A filter query that does not parse; ``field`` is ``"filter"``."""

    span: Tuple[int, int]
    """Where it goes wrong: ``(start, end)`` in characters of the query; an empty
    range marks where something was expected."""

class EventError(TodoEventsError):
    """A record that is not one of our CloudEvents."""

    kind: str
    """Why: ``"malformed"``, ``"specversion"``, ``"unsupported_version"``,
    ``"unknown_type"`` or ``"invalid_data"``."""

class KafkaError(TodoEventsError):
    """Talking to Kafka failed."""

    transient: bool
    """True when retrying later may succeed (broker unreachable, timeout)."""

# ----------------------------------------------------------------- events

@final
class Topic:
    """A topic of the event catalog. ``value`` is its base name; deployments may
    put a prefix before it (see ``Publisher`` and ``Consumer``)."""

    TASK_EVENTS: ClassVar[Topic]
    """``task-events``: created, updated, completed, deleted."""
    REMINDERS: ClassVar[Topic]
    """``reminders``: reminder scheduled, cancelled."""
    TASK_UPDATES: ClassVar[Topic]
    """``task-updates``: what live clients see (task changed, reminder due)."""

    @property
    def value(self) -> str:
        """The topic's base name, e.g. ``"task-events"``."""
    @property
    def dlq(self) -> str:
        """The dead-letter topic's base name, e.g. ``"task-events.dlq"``."""
    @staticmethod
    def from_name(name: str) -> Topic:
        """The topic named ``name``; raises ``ValidationError`` for another name."""
    @staticmethod
    def all() -> List[Topic]:
        """Every topic of the catalog."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class EventType:
    """A CloudEvents ``type`` of the catalog, e.g. ``EventType.TASK_CREATED``
    (``"todo.task.created.v1"``)."""

    TASK_CREATED: ClassVar[EventType]
    TASK_UPDATED: ClassVar[EventType]
    TASK_COMPLETED: ClassVar[EventType]
    TASK_DELETED: ClassVar[EventType]
    REMINDER_SCHEDULED: ClassVar[EventType]
    REMINDER_CANCELLED: ClassVar[EventType]
    TASK_CHANGED: ClassVar[EventType]
    REMINDER_DUE: ClassVar[EventType]

    @property
    def value(self) -> str:
        """The CloudEvents ``type`` attribute, e.g. ``"todo.task.created.v1"``."""
    @property
    def topic(self) -> Topic:
        """The topic events of this type travel on."""
    @staticmethod
    def parse(value: str) -> EventType:
        """Reads a ``type`` attribute. Raises ``EventError`` with kind
        ``"unsupported_version"`` for a known type at another major version and
        ``"unknown_type"`` for anything else."""
    @staticmethod
    def all() -> List[EventType]:
        """Every event type of the catalog."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class CloudEvent:
    """A CloudEvents 1.0 event in structured JSON mode, with the ``userid``
    extension. Immutable; equal when all attributes are."""

    def __new__(
        cls,
        source: str,
        type: Union[EventType, str],
        userid: str,
        data: Optional[Any] = None,
        *,
        subject: Optional[str] = None,
        id: Optional[str] = None,
        time: Optional[_Instant] = None,
        specversion: str = "1.0",
        datacontenttype: str = "application/json",
    ) -> CloudEvent:
        """An event with every attribute given (``data`` defaults to ``{}``,
        ``id`` to a fresh UUID v7, ``time`` to now). Only the types are checked
        (UUIDs, datetimes, JSON data; ``ValidationError``): see ``validate()``."""
    @staticmethod
    def new(
        source: str,
        type: Union[EventType, str],
        subject: Optional[str],
        user_id: str,
        data: Any,
    ) -> CloudEvent:
        """A valid event of the catalog with a fresh id and the current time.
        Raises ``EventError`` for an unknown type or data of the wrong shape."""
    @staticmethod
    def from_json(json: _JsonText) -> CloudEvent:
        """Parses one structured-mode JSON document and checks the envelope
        (``specversion`` 1.0, non-empty ``source`` and ``type``, JSON data).
        Raises ``EventError``; the type and payload are checked by ``validate()``."""
    def to_json(self) -> str:
        """The event as one structured-mode JSON document."""
    def to_bytes(self) -> bytes:
        """The event as UTF-8 JSON bytes (a Kafka record's payload)."""
    def to_dict(self) -> Dict[str, Any]:
        """The event as a dict of its JSON attributes (times as RFC 3339 text)."""
    def validate(self) -> None:
        """Checks the whole event: envelope, a known type at major version 1,
        and a ``data`` payload of that type's shape. Raises ``EventError``."""
    def decode(self) -> Dict[str, Any]:
        """The typed payload after ``validate()``'s checks, as a dict in its JSON
        shape (times in UTC as RFC 3339 text, defaults filled in)."""
    @property
    def specversion(self) -> str: ...
    @property
    def id(self) -> str:
        """The event id (a UUID)."""
    @property
    def source(self) -> str:
        """The producing service, e.g. ``"/todo/chat-api"``."""
    @property
    def type(self) -> str:
        """The ``type`` attribute as text, e.g. ``"todo.task.created.v1"``."""
    @property
    def event_type(self) -> EventType:
        """The ``type`` as an ``EventType``; raises ``EventError`` when unknown."""
    @property
    def topic(self) -> Topic:
        """The topic of this event's type; raises ``EventError`` when unknown."""
    @property
    def subject(self) -> Optional[str]:
        """The task id, if any."""
    @property
    def time(self) -> datetime:
        """When it happened (timezone-aware, UTC)."""
    @property
    def datacontenttype(self) -> str: ...
    @property
    def userid(self) -> str:
        """The user the event belongs to (a UUID; also the Kafka record key)."""
    @property
    def data(self) -> Any:
        """The ``data`` payload as given (a fresh dict on each access)."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class EventFactory:
    """Builds the events of the catalog for task changes, as the services do."""

    def __new__(cls, source: str) -> EventFactory:
        """A factory for the producing service ``source``, e.g. ``"/todo/chat-api"``."""
    @property
    def source(self) -> str: ...
    def for_change(
        self,
        change: str,
        after: Mapping[str, Any],
        *,
        before: Optional[Mapping[str, Any]] = None,
        now: Optional[_Instant] = None,
        fields: Optional[Sequence[str]] = None,
    ) -> List[CloudEvent]:
        """Every event one change of a task produces, in order: ``task-events``,
        then ``reminders`` (when the reminder changes), then ``task-updates``.

        ``change`` is ``"created"``, ``"updated"``, ``"completed"``,
        ``"reopened"`` or ``"deleted"``; ``after`` / ``before`` are task dicts in
        their JSON shape; ``fields`` names the changed fields (``"updated"``).
        Raises ``ValidationError`` for a bad change or task."""

# ----------------------------------------------------------------- chat

def parse_command(message: str, now: Optional[_Instant] = None, tz: _TimeZone = "UTC") -> Dict[str, Any]:
    """Interprets one chat message: ``{"intent": ..., "args": {...}}``, exactly
    what ``todo parse`` prints. ``now`` defaults to the current time. A sentence
    that is not understood gets intent ``"unknown"`` and empty ``args``."""

# ----------------------------------------------------------------- filters

@final
class Filter:
    """A parsed filter query (docs/filters.md), e.g. ``(today | overdue) & #work & !p3``.
    ``str(f)`` is its canonical text, which parses back to the same filter."""

    @staticmethod
    def parse(query: str) -> Filter:
        """Parses ``query``. Raises ``FilterError`` (with ``.span``) when it does not parse."""
    @property
    def source(self) -> str:
        """The query as written."""
    @property
    def lists(self) -> List[str]:
        """The text of each comma-separated list, in order."""
    def matches(self, task: Mapping[str, Any], now: Optional[_Instant] = None, tz: _TimeZone = "UTC") -> bool:
        """Whether ``task`` (a dict in the API's task shape; fields left out take
        their defaults, ``title`` is required; times as RFC 3339 text or aware
        datetimes) is shown by the filter (by any of its lists) at ``now``
        (default: now) for a user in time zone ``tz``. Raises ``ValidationError``
        for a task that does not parse."""
    def __eq__(self, other: object, /) -> bool: ...

# ----------------------------------------------------------------- recurrence

def validate_rrule(rrule: str) -> str:
    """Checks an RFC 5545 RRULE and returns its canonical text (uppercased,
    without ``RRULE:``). Raises ``ValidationError``."""

def next_occurrence(
    rrule: str,
    due_at: Optional[_Instant],
    *,
    completed_at: _Instant,
    all_day: bool = False,
    repeat_from: str = "due",
    tz: _TimeZone = "UTC",
) -> Optional[datetime]:
    """The due time of the occurrence after one completed at ``completed_at``,
    computed in ``tz`` (local times stay put across DST changes); ``None`` when
    the rule has ended. ``repeat_from`` is ``"due"`` or ``"completion"``."""

def first_occurrence(
    rrule: str,
    start: _Instant,
    at_or_after: Optional[_Instant] = None,
    *,
    tz: _TimeZone = "UTC",
) -> Optional[datetime]:
    """The first occurrence of ``rrule`` anchored at ``start`` (read in ``tz``)
    at or after ``at_or_after`` (default ``start``); ``None`` when it has ended."""

# ----------------------------------------------------------------- kafka

def ensure_topics(
    bootstrap_servers: str,
    topic_prefix: str = "",
    *,
    partitions: int = 6,
    replication_factor: int = 1,
    properties: Optional[Mapping[str, str]] = None,
) -> List[str]:
    """Creates the catalog topics and their ``.dlq`` topics under
    ``topic_prefix`` unless they exist; returns the physical names."""

@final
class Publisher:
    """Publishes to Kafka with the idempotent producer (``acks=all``): each call
    returns once the broker stored the record. Key = the event's ``userid``."""

    def __new__(
        cls,
        bootstrap_servers: str,
        topic_prefix: str = "",
        *,
        properties: Optional[Mapping[str, str]] = None,
    ) -> Publisher: ...
    @property
    def topic_prefix(self) -> str: ...
    def publish(self, event: CloudEvent, topic: Union[Topic, str, None] = None) -> Tuple[int, int]:
        """Validates and publishes ``event`` to ``topic`` (default: its type's
        topic) under the prefix. Returns ``(partition, offset)``."""
    def publish_raw(
        self,
        topic: Union[Topic, str],
        key: Optional[str],
        payload: _JsonText,
        headers: Optional[Mapping[str, str]] = None,
    ) -> Tuple[int, int]:
        """Publishes any record to ``topic`` under the prefix. Returns
        ``(partition, offset)``."""
    def flush(self, timeout: Optional[float] = None) -> None:
        """Waits until every queued record is acknowledged (default 30 s)."""
    def ping(self) -> None:
        """Checks that the cluster answers; raises ``KafkaError``."""
    def close(self) -> None:
        """Flushes and closes the producer."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

@final
class Record:
    """One record read from Kafka, as delivered (possibly more than once)."""

    @property
    def topic(self) -> str:
        """The physical topic name (with the prefix)."""
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> Optional[str]: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def headers(self) -> Dict[str, str]: ...
    def header(self, name: str) -> Optional[str]:
        """The first value of header ``name``, if present."""
    def event(self) -> CloudEvent:
        """The payload as a ``CloudEvent`` (envelope checked); raises ``EventError``."""

@final
class Consumer:
    """A member of a Kafka consumer group, at least once: offsets are committed
    only after ``commit(record)``."""

    def __new__(
        cls,
        bootstrap_servers: str,
        group: str,
        topics: Sequence[Union[Topic, str]],
        from_beginning: bool = True,
        topic_prefix: str = "",
        *,
        properties: Optional[Mapping[str, str]] = None,
    ) -> Consumer: ...
    @property
    def group(self) -> str: ...
    @property
    def topics(self) -> List[str]:
        """The physical topic names subscribed to."""
    def poll(self, timeout: Optional[float] = None) -> Optional[Record]:
        """The next record, waiting at most ``timeout`` seconds (``None``: until
        one comes); ``None`` when none came in time."""
    def commit(self, record: Record) -> None:
        """Marks ``record`` (and all before it in its partition) as processed."""
    def close(self) -> None:
        """Commits what was marked and leaves the group. Idempotent."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...
