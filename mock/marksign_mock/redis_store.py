"""The store in Redis: sessions, scripts and the journal that many simulator processes share.

`marksign-mock --store redis://host:port/db` (and `--workers N`, or replicas behind a load
balancer) keeps every piece of state in one Redis, under one key prefix (`marksign-mock:`),
with the rules of the memory store (`models`, `scripts`, `journal`):

| key | type | what |
|---|---|---|
| `{p}s:{token}` | hash | a session's fields (`models.Session`), its signature, `waiting` |
| `{p}removal` | sorted set | token -> when it is forgotten (finished + retention) |
| `{p}live` | sorted set | token -> when its outcome is known, while it is not |
| `{p}counter` | string | seeded tokens: the number of the last one |
| `{p}resets` | string | how many resets: a poll tells a reset from retention by it |
| `{p}signing:{token}` | string | a lock: the one process computing the signature |
| `{p}scripts`, `{p}remaining` | hashes | script id -> the script (JSON); -> uses left |
| `{p}script-ids`, `{p}scripts-version` | strings | the last script id; grows with each change |
| `{p}journal`, `{p}journal-dropped` | sorted set, string | entries by answer time; dropped |
| `{p}ack:{id}` | list | the confirmations of one broadcast |
| `{p}once:{origin}:{n}` | string | a script's answer, for `ONCE_SECONDS`: it runs once |
| `{p}events` | pub/sub channel | what changed (below) |

Times are values of the injected clock, the wall clock by default: every process on every
machine reads the same one. What must not be seen half done (creating, taking a script's
use, forgetting, resetting) is a Lua script. A script that must not run twice (all that
count or take) keeps its answer under a key of its own call (`_once`): the one retry of a
command whose answer a broken connection lost gets that answer, instead of running it
again (a scripted error's use taken twice, two sessions for one initialize).

**Long polls.** A status call waits on an event of its own process, woken by a timer at the
session's deadline (read from Redis), by a message on `{p}events` (another process
scripted, answered or reset it) or by a sweep; it then reads the session again. While the
subscription is down, waiters read again every half second, and all of them once it is
back: no change is missed. A quiet subscription is pinged, so one that a NAT or a load
balancer dropped without a word counts as down within `2 * SUBSCRIPTION_PING_SECONDS`. A
poll that waited gets the session's answer even if retention forgets the session as it
finishes (as in memory). The signature is computed once, by whichever process takes the
`signing` lock in the same step that finds none stored; the others wait for its message,
and only the holder releases the lock.

**Scripts** are matched in each process against a copy it holds (so a request with no
script armed does no I/O for them); taking a use is atomic in Redis, and a process that
finds a use gone drops it and looks further. Arming or removing one is a *broadcast*:
published on the channel, and the call returns once every subscribed process has
reloaded its copy. **The journal**: each process buffers its entries and adds them in
batches, in the order of the time they were answered; reading it is a broadcast that has
every process add what it holds first, and numbers the entries (`seq`) in that order.

Redis errors answer `ApiError(50002)` ("Cannot establish a connection"); the first is
logged in one line, and so is the recovery. Standalone Redis 6.2 or newer (the Lua
scripts touch keys they do not declare, which Redis Cluster refuses).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import hashlib
import itertools
import logging
import math
import secrets
import time
import types
import typing
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

import orjson
import redis.asyncio as aioredis
from marksign_spec import Operation
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError, WatchError

from . import crypto
from .config import MockConfig, redacted_url
from .exceptions import ApiError
from .journal import JournalEntry, JournalQuery
from .models import Clock, NewSession, Session, SessionRequest, rescript
from .person import Outcome, SimulatedPerson
from .polls import Gone, ParkedPolls
from .scripts import AnyScript, Armed, ErrorScript, Fault, Scenario, Script

logger = logging.getLogger("marksign_mock")

PREFIX: Final = "marksign-mock:"
SIGNING_LOCK_SECONDS: Final = 60.0  # a signer that died holds the lock this long
SIGNING_RECHECK_SECONDS: Final = 5.0  # others look again this often while one signs
DEGRADED_POLL_SECONDS: Final = 0.5  # waiters read again this often while unsubscribed
SAFETY_TTL_SECONDS: Final = 60  # past removal: what a crashed process left behind expires
MAX_CONNECTIONS: Final = 64  # per process; more callers queue for one
# A Redis that stops answering is an error after this. Generous: a process busy with
# thousands of released long polls (RSA signing on a shared core) reads answers late,
# which is no Redis failure (measured: 10,000 polls over two processes, BENCHMARKS.md).
COMMAND_TIMEOUT_SECONDS: Final = 60.0
# A caller waits this long for a free connection: a burst (thousands of long polls
# released at once) queues; a Redis that is down fails at once, on connecting.
POOL_WAIT_SECONDS: Final = 120.0
BROADCAST_TIMEOUT_SECONDS: Final = 5.0  # how long a broadcast waits for every process
SUBSCRIBE_WAIT_SECONDS: Final = 2.0  # at startup, for the subscription (then it goes on)
RESUBSCRIBE_DELAYS: Final = (0.05, 0.1, 0.2, 0.5, 1.0)  # then every second
# A subscription quiet this long is pinged; no answer within as long again and it counts as
# lost (a flow that a NAT or a load balancer dropped says nothing).
SUBSCRIPTION_PING_SECONDS: Final = 5.0
# How long a script's answer is kept for its retry, which comes within milliseconds.
ONCE_SECONDS: Final = 10
JOURNAL_FLUSH_SECONDS: Final = 0.2  # a process appends its journal entries this often...
JOURNAL_FLUSH_ENTRIES: Final = 256  # ...or once it holds this many

# -- Lua -----------------------------------------------------------------------------------

# forget(p, now, max_retained): sessions due at `now`, and the oldest finished ones beyond
# `max_retained`; returns how many were forgotten.
_FORGET = """
local function forget(p, now, max_retained)
  local removal, live = p .. 'removal', p .. 'live'
  local removed = 0
  for _, t in ipairs(redis.call('ZRANGEBYSCORE', removal, '-inf', now)) do
    removed = removed + redis.call('DEL', p .. 's:' .. t)
  end
  redis.call('ZREMRANGEBYSCORE', removal, '-inf', now)
  redis.call('ZREMRANGEBYSCORE', live, '-inf', now)
  local excess = redis.call('ZCARD', removal) - redis.call('ZCARD', live) - max_retained
  -- Oldest first, stepping over running sessions: one can sort before finished ones when
  -- processes sharing the prefix differ in --retention or in their clocks.
  local skipped = 0
  while excess > 0 do
    local oldest = redis.call('ZRANGE', removal, skipped, skipped + excess - 1)
    if #oldest == 0 then break end
    for _, t in ipairs(oldest) do
      if redis.call('ZSCORE', live, t) then  -- never a running one
        skipped = skipped + 1
      else
        removed = removed + redis.call('DEL', p .. 's:' .. t)
        redis.call('ZREM', removal, t)
        excess = excess - 1
      end
    end
  end
  return removed
end
"""

# bump(p): a new version of the armed scripts, above the last one and above Redis's clock
# in microseconds, so that it still grows after the keys were lost (FLUSHDB, a restart
# without persistence), which processes that stayed subscribed do not hear of.
_BUMP = """
local function bump(p)
  local now = redis.call('TIME')
  local last = tonumber(redis.call('GET', p .. 'scripts-version') or '0')
  local version = math.max(last + 1, tonumber(now[1]) * 1000000 + tonumber(now[2]))
  redis.call('SET', p .. 'scripts-version', string.format('%.0f', version))
  return version
end
"""

# take(p, id, channel): one use of script `id`; the last one disarms it (and says so on the
# channel). 1: taken, 0: none left.
_TAKE = (
    _BUMP
    + """
local function take(p, id, channel)
  local left = tonumber(redis.call('HGET', p .. 'remaining', id) or '0')
  if left <= 0 then return 0 end
  if left == 1 then
    redis.call('HDEL', p .. 'scripts', id)
    redis.call('HDEL', p .. 'remaining', id)
    bump(p)
    redis.call('PUBLISH', channel, 'scripts')
  else
    redis.call('HINCRBY', p .. 'remaining', id, -1)
  end
  return 1
end
"""
)

_SWEEP = _FORGET + "return forget(ARGV[1], ARGV[2], tonumber(ARGV[3]))"


def _once(script: str) -> str:
    """`script` made to run once per call: its last key (`RedisStore._once_key`) keeps the
    answer (a number, a string or false) for ONCE_SECONDS, and a call sent again with the
    same key gets that answer without running it again."""
    return f"""
local function run()
{script}
end
local once = KEYS[#KEYS]
local kept = redis.call('GET', once)
if kept then
  local kind, value = string.sub(kept, 1, 1), string.sub(kept, 2)
  if kind == 'n' then return tonumber(value) end
  if kind == 's' then return value end
  return false
end
local answer = run()
local keep = 'f'
if type(answer) == 'number' then keep = 'n' .. string.format('%.0f', answer)
elseif type(answer) == 'string' then keep = 's' .. answer end
redis.call('SET', once, keep, 'PX', {ONCE_SECONDS * 1000})
return answer
"""


# ARGV: prefix, now, max_retained, max_sessions, token, remove_at, finished_at, ttl_ms,
# scenario id ('' for none), channel, then the session's field/value pairs.
# 1: created, 0: the token is taken, -1: over the cap, -2: the scenario has no use left.
_CREATE = (
    _FORGET
    + _TAKE
    + """
local p, now, token, scenario = ARGV[1], ARGV[2], ARGV[5], ARGV[9]
forget(p, now, tonumber(ARGV[3]))
if redis.call('ZCOUNT', p .. 'live', '(' .. now, '+inf') >= tonumber(ARGV[4]) then
  return -1
end
local key = p .. 's:' .. token
if redis.call('EXISTS', key) == 1 then return 0 end
if scenario ~= '' and take(p, scenario, ARGV[10]) == 0 then return -2 end
redis.call('HSET', key, unpack(ARGV, 11))
redis.call('PEXPIRE', key, ARGV[8])
redis.call('ZADD', p .. 'removal', ARGV[6], token)
if tonumber(ARGV[7]) > tonumber(now) then redis.call('ZADD', p .. 'live', ARGV[7], token) end
return 1
"""
)

_TAKE_ONE = _TAKE + "return take(ARGV[1], ARGV[2], ARGV[3])"

# ARGV: prefix, id, times, the script's JSON. Arms it; returns the new version.
_ADD_SCRIPT = (
    _BUMP
    + """
local p = ARGV[1]
redis.call('HSET', p .. 'scripts', ARGV[2], ARGV[4])
redis.call('HSET', p .. 'remaining', ARGV[2], ARGV[3])
return bump(p)
"""
)

# ARGV: prefix, id ('' for every script). Returns how many were disarmed.
_REMOVE_SCRIPTS = (
    _BUMP
    + """
local p = ARGV[1]
local n
if ARGV[2] == '' then
  n = redis.call('HLEN', p .. 'scripts')
  redis.call('DEL', p .. 'scripts', p .. 'remaining')
else
  n = redis.call('HDEL', p .. 'scripts', ARGV[2])
  redis.call('HDEL', p .. 'remaining', ARGV[2])
end
if n > 0 then bump(p) end
return n
"""
)

# ARGV: prefix. Forgets every session and its indexes; returns how many there were.
_RESET = """
local p = ARGV[1]
local n = 0
for _, t in ipairs(redis.call('ZRANGE', p .. 'removal', 0, -1)) do
  n = n + redis.call('DEL', p .. 's:' .. t)
end
redis.call('DEL', p .. 'removal', p .. 'live', p .. 'counter')
redis.call('INCR', p .. 'resets')
return n
"""

# KEYS: the session, its signing lock. ARGV: this process, the lock's time to live (ms).
# In one step, so that no process signs what another has just stored: {'signed', signature},
# {'gone'}, {'mine'} (this process holds the lock and signs) or {'theirs'}.
_CLAIM_SIGNING = """
local signature = redis.call('HGET', KEYS[1], 'signature')
if signature then return {'signed', signature} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'mine'} end
return {'theirs'}
"""

# KEYS: a lock. ARGV: its holder. Deleted only by its holder (it may have expired and been
# taken by another process meanwhile).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: the session. ARGV: the signature. Keeps the first one stored; false if it is gone.
_STORE_SIGNATURE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSETNX', KEYS[1], 'signature', ARGV[1])
return redis.call('HGET', KEYS[1], 'signature')
"""

# KEYS: the session, the count of resets. Counts a poll waiting on the session and returns
# the count of resets (a poll tells by it a reset from retention); false if it is gone.
_PARK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HINCRBY', KEYS[1], 'waiting', 1)
return redis.call('GET', KEYS[2]) or '0'
"""

# KEYS: the session. ARGV: +1 or -1. Counts a waiting long poll, unless the session is gone
# (a bare HINCRBY would bring a forgotten session's key back, without its TTL).
_COUNT_WAITING = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('HINCRBY', KEYS[1], 'waiting', ARGV[1])
"""

# ARGV: prefix, max_entries, dropped, then (answered at, entry) pairs. Adds the entries in
# the order they were answered, keeps the newest max_entries, and counts what is dropped
# (`dropped` more were dropped before they got here): the count numbers those that stay.
_APPEND_JOURNAL = """
local p = ARGV[1]
local key = p .. 'journal'
for i = 4, #ARGV, 2 do redis.call('ZADD', key, ARGV[i], ARGV[i + 1]) end
local dropped = tonumber(ARGV[3])
local excess = redis.call('ZCARD', key) - tonumber(ARGV[2])
if excess > 0 then
  redis.call('ZREMRANGEBYRANK', key, 0, excess - 1)
  dropped = dropped + excess
end
if dropped > 0 then redis.call('INCRBY', p .. 'journal-dropped', dropped) end
return dropped
"""

# ARGV: prefix. Forgets every entry (their numbers stay taken); returns how many.
_RESET_JOURNAL = """
local p = ARGV[1]
local n = redis.call('ZCARD', p .. 'journal')
redis.call('DEL', p .. 'journal')
redis.call('INCRBY', p .. 'journal-dropped', n)
return n
"""


# -- a Session as a Redis hash -------------------------------------------------------------

_LOCAL_ONLY: Final = frozenset({"evicted"})  # what one process knows of its own


def _session_fields() -> dict[str, Callable[[str], object]]:
    """Each stored field of `Session` and how to read it back, from its type hints."""
    hints = typing.get_type_hints(Session)
    fields: dict[str, Callable[[str], object]] = {}
    for field in dataclasses.fields(Session):
        if field.name.startswith("_") or field.name in _LOCAL_ONLY:
            continue
        kind = hints[field.name]
        if isinstance(kind, types.UnionType):  # X | None: None is a missing field
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        fields[field.name] = _decoder(kind)
    return fields


def _decoder(kind: Any) -> Callable[[str], object]:
    if kind is bytes:
        return bytes.fromhex
    if kind is bool:
        return lambda text: text == "1"
    if kind in (str, float, int):
        return typing.cast(Callable[[str], object], kind)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return typing.cast(Callable[[str], object], kind)
    raise TypeError(f"a Session field of type {kind!r} cannot be kept in Redis")


def _encode(value: object) -> str:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


SESSION_FIELDS: Final = _session_fields()
# What rescripting a session may change (`models.rescript`).
TIMELINE_FIELDS: Final = ("answer", "answer_at", "expires_at")


def _pairs(session: Session, names: Iterable[str]) -> tuple[list[str], list[str]]:
    """The (field, value, ...) pairs to set, and the fields that are None (to delete)."""
    pairs: list[str] = []
    missing: list[str] = []
    for name in names:
        value = getattr(session, name)
        if value is None:
            missing.append(name)
        else:
            pairs += [name, _encode(value)]
    return pairs, missing


async def _sign(session: Session) -> str:
    signature = crypto.cached_signature(session.hash_algorithm, session.hash_bytes)
    if signature is None:
        # RSA signing releases the GIL: the event loop keeps serving meanwhile.
        signature = await asyncio.get_running_loop().run_in_executor(
            None, crypto.sign_hash, session.hash_algorithm, session.hash_bytes
        )
    return signature


def _session(stored: Mapping[str, str]) -> Session:
    values: dict[str, Any] = dict.fromkeys(SESSION_FIELDS)
    for name, read in SESSION_FIELDS.items():
        if name in stored:
            values[name] = read(stored[name])
    if values["waiting"] is None:
        values["waiting"] = 0
    return Session(**values)


# -- scripts as JSON -----------------------------------------------------------------------

_KINDS: Final[dict[str, type[Script]]] = {
    "scenario": Scenario,
    "error": ErrorScript,
    "fault": Fault,
}


def _script_json(script: Script) -> bytes:
    kind = next(name for name, cls in _KINDS.items() if isinstance(script, cls))
    record = {f.name: getattr(script, f.name) for f in dataclasses.fields(script)}
    del record["remaining"]  # kept apart, where Lua counts it
    if isinstance(script, Scenario) and script.outcome is not None:
        record["outcome"] = script.outcome.value
    return orjson.dumps({"type": kind, **record})


def _script(text: str, remaining: int) -> Script:
    record = orjson.loads(text)
    cls = _KINDS[record.pop("type")]
    if cls is Scenario and record["outcome"] is not None:
        record["outcome"] = Outcome(record["outcome"])
    return cls(**record, remaining=remaining)


def _armed(scripts: Mapping[str, str], remaining: Mapping[str, str]) -> Armed:
    armed = Armed()
    for script_id in sorted(scripts, key=int):
        armed.add(_script(scripts[script_id], int(remaining.get(script_id, 0))))
    return armed


class _Reads:
    """Session reads asked for in one turn of the event loop go to Redis together, in one
    pipeline: under load, dozens of status calls share one round trip and one connection
    (measured: BENCHMARKS.md); alone, a read waits for nothing but that turn."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._pending: list[tuple[str, asyncio.Future[dict[str, str]]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def hgetall(self, key: str) -> asyncio.Future[dict[str, str]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, str]] = loop.create_future()
        self._pending.append((key, future))
        if len(self._pending) == 1:
            loop.call_soon(self._send)
        return future

    def _send(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._read(batch))
        self._tasks.add(task)  # held until done (the loop keeps only weak references)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, batch: list[tuple[str, asyncio.Future[dict[str, str]]]]) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, _ in batch:
                    pipe.hgetall(key)
                answers = await pipe.execute()
        except BaseException as error:  # each reader sees it (and its caller answers 50002)
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)


# What Redis answers a SELECT of a database it does not have (its `databases` setting).
_NO_SUCH_DATABASE: Final = "DB index is out of range"


def check_url(url: str) -> None:
    """ValueError (one line) if redis-py could not connect with `url` as it is written: a
    port or option it cannot read, an option it does not take for this scheme, or a
    database it would ignore (it uses database 0 for `redis://host/abc` without a word).
    Nothing is sent."""
    try:
        pool = aioredis.ConnectionPool.from_url(url)  # the URL's options, as redis-py reads it
        pool.connection_class(**pool.connection_kwargs)  # made, not connected
    except (ValueError, TypeError, AttributeError, RedisError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        unexpected = "unexpected keyword argument "
        if unexpected in reason:  # AbstractConnection.__init__() got an unexpected ...
            reason = "an option redis-py does not take here: " + reason.partition(unexpected)[2]
        elif isinstance(error, (TypeError, AttributeError)):  # a value it cannot use
            reason = f"an option redis-py cannot use ({reason})"
        raise ValueError(reason) from None
    parts = urlsplit(url)
    database = parts.path.strip("/")
    if parts.scheme in ("redis", "rediss") and database and "db" not in pool.connection_kwargs:
        raise ValueError(f"the database after the address is a number, not {database!r}")


class RedisUnavailable(ApiError):
    """50002: Redis cannot be reached (its error is the cause)."""

    def __init__(self) -> None:
        super().__init__(50002)


@dataclasses.dataclass(eq=False)
class _Waiting:
    """The local long polls of one token: one event, one deadline timer."""

    event: asyncio.Event
    finished_at: float | None = None
    timer: asyncio.TimerHandle | None = None
    polls: int = 0


class RedisStore:
    """`stores.Store` in the Redis at `url`, under `prefix`: shared by every process that
    opens it. `scripts` and `journal` are its `RedisScripts` and `RedisJournal`."""

    def __init__(
        self,
        url: str,
        *,
        person: SimulatedPerson | None = None,
        session_timeout: float = 120.0,
        retention: float = 300.0,
        max_sessions: int = 50_000,
        max_retained: int = 100_000,
        seed: int | None = None,
        clock: Clock = time.time,
        prefix: str = PREFIX,
        journal_size: int = 1000,
    ) -> None:
        check_url(url)
        self.url = url
        self.person = person if person is not None else SimulatedPerson()
        self.session_timeout = session_timeout
        self.retention = retention
        self.max_sessions = max_sessions
        self.max_retained = max_retained
        self.seed = seed
        self.clock = clock
        self.prefix = prefix
        self.channel = f"{prefix}events"
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=POOL_WAIT_SECONDS,
            decode_responses=True,
            socket_connect_timeout=2.0,
            socket_timeout=COMMAND_TIMEOUT_SECONDS,
            health_check_interval=10,
            # One quick retry covers a connection that Redis closed (a restart) and that the
            # pool hands out before it notices; a server that is down answers 50002 within
            # milliseconds instead of after a long backoff. A command whose answer a broken
            # connection lost is sent again too: the scripts that must not run twice answer
            # the copy from what they kept (`_once`). Not a command that timed out: Redis
            # was busy, not gone, and a copy would queue behind the command still running.
            retry=Retry(
                ExponentialBackoff(cap=0.05, base=0.01), 1, supported_errors=(RedisConnectionError,)
            ),
        )
        self.redis: aioredis.Redis = aioredis.Redis(connection_pool=pool)
        self._reads = _Reads(self.redis)
        # The subscription's own connection, without retries: a lost subscription must be
        # seen (until it is back, this process reads what it cannot hear), not quietly
        # re-made with the changes published meanwhile lost.
        self._listening = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=2.0,
            retry=Retry(NoBackoff(), 0),
        )
        register = self.redis.register_script
        self._create = register(_once(_CREATE))
        self._sweep = register(_SWEEP)
        self._reset = register(_once(_RESET))
        self._claim_signing = register(_CLAIM_SIGNING)
        self._release = register(_RELEASE)
        self._store_signature = register(_STORE_SIGNATURE)
        self._park = register(_once(_PARK))
        self._count_waiting = register(_once(_COUNT_WAITING))
        self._calls = itertools.count(1)
        self.scripts = RedisScripts(self)
        self.journal = RedisJournal(self, journal_size)
        self._waiting: dict[str, _Waiting] = {}
        self._parked = ParkedPolls()
        self._subscribed = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._down = False
        self._closed = False
        self.origin = secrets.token_hex(8)  # this process's store, in broadcasts and entries

    @classmethod
    def from_config(
        cls, config: MockConfig, clock: Clock = time.time, prefix: str = PREFIX
    ) -> RedisStore:
        if config.store_url is None:
            raise ValueError("the config names no store URL")
        return cls(
            config.store_url,
            person=SimulatedPerson(config.answer_delay, config.allow_any_code),
            session_timeout=config.session_timeout,
            retention=config.retention,
            max_sessions=config.max_sessions,
            max_retained=config.max_retained,
            seed=config.seed,
            clock=clock,
            prefix=prefix,
            journal_size=config.journal_size,
        )

    def __repr__(self) -> str:
        return f"RedisStore({redacted_url(self.url)!r}, prefix={self.prefix!r})"

    # -- lifecycle -----------------------------------------------------------------------

    async def open(self) -> None:
        self._closed = False
        self._start_listener()
        # Subscribed before the first request, so that broadcasts count this process.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SUBSCRIBE_WAIT_SECONDS):
                await self._subscribed.wait()
        try:
            await self.scripts.reload()
        except RedisUnavailable as unavailable:  # logged; loaded once it is back
            refusal = unavailable.__cause__
            if isinstance(refusal, ResponseError) and _NO_SUCH_DATABASE in str(refusal):
                # It answered, and will answer the same for ever (unlike BUSY or LOADING).
                raise RuntimeError(
                    f"Redis at {redacted_url(self.url)} refuses this store: {refusal}"
                ) from None

    async def aclose(self) -> None:
        with contextlib.suppress(RedisUnavailable):  # what it holds, before it goes
            await self.journal.flush()
        self._closed = True  # long polls of this process answer 50002 now
        listener, self._listener = self._listener, None
        for task in [*self._tasks, *([listener] if listener else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.journal.close()
        self._wake_all()
        for client in (self.redis, self._listening):
            await client.aclose()
            await client.connection_pool.disconnect()

    # -- errors --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reaching(self) -> Iterator[None]:
        """Redis errors -> 50002; one log line when Redis goes away, one when it is back."""
        try:
            yield
        except (RedisError, OSError) as error:
            if not self._down:
                self._down = True
                reason = str(error).splitlines()[0] if str(error) else ""
                logger.error(
                    "Redis store %s unreachable (%s: %s): answering 50002 until it is back",
                    redacted_url(self.url),
                    type(error).__name__,
                    reason,
                )
            raise RedisUnavailable() from error
        if self._down:
            self._down = False
            logger.warning("Redis store %s reachable again", redacted_url(self.url))

    def key(self, token: str) -> str:
        return f"{self.prefix}s:{token}"

    @property
    def subscribed(self) -> bool:
        """Whether this process hears the channel (every change is then told to it)."""
        return self._subscribed.is_set()

    @staticmethod
    def _ttl_ms(remove_at: float, now: float) -> int:
        return max(1, math.ceil(remove_at - now) + SAFETY_TTL_SECONDS) * 1000

    # -- queries -------------------------------------------------------------------------

    async def count(self) -> int:
        with self._reaching():
            return int(await self.redis.zcard(f"{self.prefix}removal"))

    async def live_count(self) -> int:
        now = self.clock()
        with self._reaching():
            return int(await self.redis.zcount(f"{self.prefix}live", f"({now!r}", "+inf"))

    async def get(self, token: str) -> Session:
        session = await self._stored(token)
        if session is None or self.clock() >= session.finished_at + self.retention:
            raise ApiError(40402)
        return session

    async def _resets(self) -> str:
        with self._reaching():
            return str(await self.redis.get(f"{self.prefix}resets") or "0")

    async def _stored(self, token: str) -> Session | None:
        """The session as Redis holds it, retained or not (its key outlives retention)."""
        with self._reaching():
            stored = await self._reads.hgetall(self.key(token))
        return _session(stored) if stored else None

    async def sessions(self) -> list[Session]:
        now = self.clock()
        with self._reaching():
            tokens: list[str] = await self.redis.zrange(f"{self.prefix}removal", 0, -1)  # type: ignore[assignment]
            async with self.redis.pipeline(transaction=False) as pipe:
                for token in tokens:
                    pipe.hgetall(self.key(token))
                stored = await pipe.execute()
        found = [_session(fields) for fields in stored if fields]
        kept = [s for s in found if now < s.finished_at + self.retention]
        return sorted(kept, key=lambda s: s.started_at)

    # -- commands ------------------------------------------------------------------------

    async def create(self, request: SessionRequest, scenario: Scenario | None = None) -> Session:
        while True:
            new = NewSession.check(self.person, request, scenario)
            now = self.clock()
            session = new.start(await self._new_token(), now, self.session_timeout)
            remove_at = session.finished_at + self.retention
            pairs, _ = _pairs(session, SESSION_FIELDS)
            args: list[str | int] = [
                *(self.prefix, repr(now), self.max_retained, self.max_sessions),
                *(session.token, repr(remove_at), repr(session.finished_at)),
                self._ttl_ms(remove_at, now),
                "" if scenario is None else scenario.id,
                self.channel,
                *pairs,
            ]
            with self._reaching():
                created = await self._create(keys=[self._once_key()], args=args)
            if created == 1:
                return session
            if created == -1:
                raise ApiError(42900)
            if created == -2:  # another process took its last use: the next one, if any
                self.scripts.drop(scenario)
                scenario = await self.scripts.peek_scenario(request.personal_code)
            # 0: the token was taken meanwhile; a new one

    def _once_key(self) -> str:
        """The key of one call of a script that must run once (`_once`)."""
        return f"{self.prefix}once:{self.origin}:{next(self._calls)}"

    async def _new_token(self) -> str:
        if self.seed is None:
            bits = secrets.randbits(128)
        else:
            # Every process of the store draws from one sequence: the seed and a number.
            with self._reaching():
                number = await self.redis.incr(f"{self.prefix}counter")
            digest = hashlib.sha256(f"{self.seed}:{number}".encode()).digest()
            bits = int.from_bytes(digest[:16], "big")
        h = f"{bits:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    async def script(
        self,
        token: str,
        *,
        outcome: Outcome | None = None,
        answer_after: float | None = None,
        now_: bool = False,
    ) -> Session:
        key = self.key(token)
        removal, live = f"{self.prefix}removal", f"{self.prefix}live"
        with self._reaching():
            async with self.redis.pipeline(transaction=True) as pipe:
                while True:  # optimistic: again if the session changed while we looked
                    try:
                        await pipe.watch(key)
                        stored: dict[str, str] = await pipe.hgetall(key)  # type: ignore[assignment]
                        if not stored:
                            raise ApiError(40402)
                        session = _session(stored)
                        now = self.clock()
                        if now >= session.finished_at + self.retention:
                            raise ApiError(40402)
                        answer_delay = self.person.answer_delay
                        if not rescript(session, now, answer_delay, outcome, answer_after, now_):
                            return session  # finished: it stays as it was
                        pairs, missing = _pairs(session, TIMELINE_FIELDS)
                        remove_at = session.finished_at + self.retention
                        pipe.multi()  # type: ignore[no-untyped-call]
                        if missing:
                            pipe.hdel(key, *missing)
                        pipe.hset(key, mapping=dict(zip(pairs[::2], pairs[1::2], strict=True)))
                        pipe.pexpire(key, self._ttl_ms(remove_at, now))
                        pipe.zadd(removal, {token: remove_at})
                        if session.finished_at > now:
                            pipe.zadd(live, {token: session.finished_at})
                        else:
                            pipe.zrem(live, token)
                        pipe.publish(self.channel, f"s {token}")
                        await pipe.execute()
                        break
                    except WatchError:
                        continue
        self._wake(token)
        return session

    async def sweep(self) -> int:
        now = self.clock()
        with self._reaching():
            removed = int(await self._sweep(args=[self.prefix, repr(now), self.max_retained]))
        for token, waiting in list(self._waiting.items()):
            if waiting.finished_at is not None and now >= waiting.finished_at:
                self._wake(token)
        return removed

    async def reset(self) -> int:
        with self._reaching():
            count = int(await self._reset(keys=[self._once_key()], args=[self.prefix]))
            await self.redis.publish(self.channel, "*")
        self._wake_all()
        return count

    async def release_polls(self) -> None:
        self._closed = True  # this process's polls answer 50002; the sessions live on
        self._wake_all()

    # -- the long poll -------------------------------------------------------------------

    async def status(self, token: str, gone: Gone | None = None) -> str:
        session = await self._wait(token, gone)
        outcome = session.outcome(self.clock())
        code = None if outcome is None else outcome.error_code
        if code is not None:
            raise ApiError(code)
        if session.signature is not None:
            return session.signature
        return await self._signature(session)

    async def until_parked(self, token: str | None = None, count: int = 1) -> None:
        await self._parked.until(token, count)

    async def _wait(self, token: str, gone: Gone | None) -> Session:
        """Hold until the session's outcome is known (at the latest, its expiry)."""
        parked: Session | None = None
        resets = ""  # the count of resets when the poll parked
        while True:
            if self._closed:
                raise RedisUnavailable()
            async with self._watching(token) as waiting:  # before reading: nothing is missed
                if parked is None:
                    session = await self.get(token)
                else:  # a poll that waited is owed the answer, as in memory, even if
                    # retention forgot the session the moment it finished (--retention 0)
                    stored = await self._stored(token)
                    if stored is None:  # forgotten: by retention once finished, or a reset
                        if self.clock() < parked.finished_at or await self._resets() != resets:
                            raise ApiError(40402)
                        return parked
                    if await self._resets() != resets:  # the token of a session started
                        raise ApiError(40402)  # since a reset (with --seed, they start over)
                    session = stored
                now = self.clock()
                if now >= session.finished_at:
                    return session
                self._arm(token, waiting, session.finished_at, now)
                key = self.key(token)
                with self._reaching():
                    counted = await self._park(keys=[key, f"{self.prefix}resets", self._once_key()])
                if counted is None:  # gone before its outcome was known: a reset
                    raise ApiError(40402)
                if parked is None:
                    resets = str(counted)
                parked = session
                try:
                    with self._parked.parked(token, gone):
                        await self._until_woken(waiting)
                finally:
                    with contextlib.suppress(RedisError, OSError):  # gone with Redis: no count
                        await self._count_waiting(keys=[key, self._once_key()], args=[-1])

    async def _signature(self, session: Session) -> str:
        """Sign once across every process: the holder of the lock signs, the others wait."""
        token = session.token
        key = self.key(token)
        lock = f"{self.prefix}signing:{token}"
        while True:
            async with self._watching(token) as waiting:
                with self._reaching():
                    claim = await self._claim_signing(
                        keys=[key, lock], args=[self.origin, int(SIGNING_LOCK_SECONDS * 1000)]
                    )
                if claim[0] == "signed":
                    return str(claim[1])
                if claim[0] == "gone":  # forgotten since it finished: still this poll's answer
                    return await _sign(session)
                if claim[0] == "theirs":  # another process signs; it says so on the channel
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(SIGNING_RECHECK_SECONDS):
                            await waiting.event.wait()
                    continue
            try:
                signature = await _sign(session)
                with self._reaching():
                    stored = await self._store_signature(keys=[key], args=[signature])
                    await self.redis.publish(self.channel, f"s {token}")
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await self._release(keys=[lock], args=[self.origin])
            self._wake(token)
            return signature if stored is None else str(stored)

    @contextlib.asynccontextmanager
    async def _watching(self, token: str) -> AsyncIterator[_Waiting]:
        waiting = self._waiting.get(token)
        if waiting is None:
            waiting = self._waiting[token] = _Waiting(asyncio.Event())
        waiting.polls += 1
        try:
            yield waiting
        finally:
            waiting.polls -= 1
            if not waiting.polls and self._waiting.get(token) is waiting:
                self._forget_waiting(token, waiting)

    def _arm(self, token: str, waiting: _Waiting, finished_at: float, now: float) -> None:
        if waiting.timer is None or waiting.finished_at != finished_at:
            if waiting.timer is not None:
                waiting.timer.cancel()
            waiting.finished_at = finished_at
            loop = asyncio.get_running_loop()
            waiting.timer = loop.call_later(max(0.0, finished_at - now), self._due, token)

    def _due(self, token: str) -> None:
        waiting = self._waiting.get(token)
        if waiting is None or waiting.finished_at is None:
            return
        now = self.clock()
        if now < waiting.finished_at:  # the injected clock lags the loop's: look again
            loop = asyncio.get_running_loop()
            waiting.timer = loop.call_later(max(0.01, waiting.finished_at - now), self._due, token)
            return
        self._wake(token)

    async def _until_woken(self, waiting: _Waiting) -> None:
        # Unsubscribed, a change could go unheard: read again every so often.
        timeout = None if self._subscribed.is_set() else DEGRADED_POLL_SECONDS
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await waiting.event.wait()

    def _wake(self, token: str) -> None:
        waiting = self._waiting.get(token)
        if waiting is not None:
            self._forget_waiting(token, waiting)
            waiting.event.set()

    def _forget_waiting(self, token: str, waiting: _Waiting) -> None:
        if waiting.timer is not None:
            waiting.timer.cancel()
        del self._waiting[token]

    def _wake_all(self) -> None:
        for token in list(self._waiting):
            self._wake(token)

    # -- every process at once: the channel ----------------------------------------------

    async def broadcast(self, action: str) -> None:
        """Have every process of this store do `action` ("scripts": reload them; "flush":
        append the journal entries it holds; "drop": append them, then forget any recorded
        since, for a reset of the journal), this one first, and
        return once all have done it (or after a timeout, logged)."""
        await self._do(action)
        sync_id = secrets.token_hex(8)
        acks = f"{self.prefix}ack:{sync_id}"
        with self._reaching():
            receivers = int(
                await self.redis.publish(self.channel, f"sync {sync_id} {self.origin} {action}")
            )
            deadline = time.monotonic() + BROADCAST_TIMEOUT_SECONDS
            confirmed = 0
            while confirmed < receivers:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if await self.redis.blpop([acks], timeout=min(left, 1.0)) is not None:
                    confirmed += 1
            await self.redis.delete(acks)
        if confirmed < receivers:
            logger.warning(
                "%d of %d simulator processes did not confirm %r within %g s",
                receivers - confirmed,
                receivers,
                action,
                BROADCAST_TIMEOUT_SECONDS,
            )

    async def _do(self, action: str) -> None:
        if action == "scripts":
            await self.scripts.reload()
        elif action == "flush":
            await self.journal.flush()
        elif action == "drop":  # what is answered is counted as cleared: added, then cleared
            with contextlib.suppress(RedisUnavailable):  # unreachable: dropped all the same
                await self.journal.flush()
            self.journal.drop()
        else:
            logger.warning("unknown broadcast %r ignored", action)

    async def _confirm(self, sync_id: str, origin: str, action: str) -> None:
        with contextlib.suppress(RedisUnavailable):  # logged; the broadcaster says who failed
            if origin != self.origin:  # the broadcaster did its own part first
                await self._do(action)
            acks = f"{self.prefix}ack:{sync_id}"
            with self._reaching():
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.rpush(acks, 1)
                    pipe.expire(acks, 60)
                    await pipe.execute()

    def _spawn(self, coroutine: typing.Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _start_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="marksign-mock-redis")

    def _on_message(self, data: str) -> None:
        kind, _, rest = data.partition(" ")
        if kind == "s":
            self._wake(rest)
        elif kind == "*":
            self._wake_all()
        elif kind == "scripts":
            self._spawn(self._reload_quietly())
        elif kind == "sync":
            sync_id, origin, action = [*rest.split(" "), "", ""][:3]
            self._spawn(self._confirm(sync_id, origin, action))

    async def _reload_quietly(self) -> None:
        with contextlib.suppress(RedisUnavailable):  # logged; reloaded once it is back
            await self.scripts.reload()

    async def _listen(self) -> None:
        attempt = 0
        while True:
            pubsub = self._listening.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                pinged = False
                while True:
                    message = await pubsub.get_message(timeout=SUBSCRIPTION_PING_SECONDS)
                    if message is None:
                        if pinged:
                            raise RedisConnectionError("no answer to a ping on the subscription")
                        await pubsub.ping()
                        pinged = True
                        continue
                    pinged = False
                    kind, data = message.get("type"), message.get("data")
                    if kind == "subscribe":  # (re)subscribed: look at everything again
                        # The copy of the scripts is current before this process counts
                        # as hearing (until then it reads them from Redis on each use);
                        # Redis may have restarted and lost them meanwhile.
                        self.scripts.forget_version()
                        await self.scripts.reload()
                        self._subscribed.set()
                        attempt = 0  # a failure until here backs off, however it recurs
                        self._wake_all()
                    elif kind == "message" and isinstance(data, str):
                        self._on_message(data)
            except (RedisError, OSError, RedisUnavailable) as error:
                if self._subscribed.is_set():
                    logger.warning("Redis subscription lost (%s); reconnecting", error)
                self._subscribed.clear()
                self._wake_all()  # waiters fall back to reading every half second
            except Exception:  # a bug, or a record it cannot read: never the end of listening
                logger.exception("the Redis subscription failed; subscribing again")
                self._subscribed.clear()
                self._wake_all()
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(RESUBSCRIBE_DELAYS[min(attempt, len(RESUBSCRIBE_DELAYS) - 1)])
            attempt += 1


class RedisScripts:
    """`scripts.ScriptStore` in Redis: every process matches against its own copy of the
    armed scripts (no I/O when none is armed) and takes uses atomically in Redis."""

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._held = Armed()
        self._version = -1
        self._take = store.redis.register_script(_once(_TAKE_ONE))
        self._add = store.redis.register_script(_ADD_SCRIPT)
        self._remove = store.redis.register_script(_once(_REMOVE_SCRIPTS))

    @property
    def armed(self) -> bool:
        held = self._held
        # Unsubscribed, this process hears of no new script: it must look in Redis.
        return bool(held.scenarios or held.errors or held.faults) or not self._store.subscribed

    async def _current(self) -> Armed:
        """What this process holds, read again from Redis while it is unsubscribed."""
        if not self._store.subscribed:
            self.forget_version()
            await self.reload()
        return self._held

    async def peek_scenario(self, personal_code: str) -> Scenario | None:
        return (await self._current()).scenario_for(personal_code)

    def drop(self, script: Script | None) -> None:
        """Forget a script this process still held but that has no use left."""
        held = self._held
        for scripts in (held.scenarios, held.errors, held.faults):
            if script in scripts:
                scripts.remove(script)  # type: ignore[arg-type]

    async def take_error(self, op: Operation) -> ErrorScript | None:
        for script in list((await self._current()).errors_for(op)):
            if await self._take_use(script):
                return script
        return None

    async def take_fault(self, op: Operation, token: str | None) -> Fault | None:
        for fault in list((await self._current()).faults_for(op, token)):
            if await self._take_use(fault):
                return fault
        return None

    async def _take_use(self, script: Script) -> bool:
        store = self._store
        with store._reaching():
            taken = await self._take(
                keys=[store._once_key()], args=[store.prefix, script.id, store.channel]
            )
        if not taken:  # another process took the last use
            self.drop(script)
        return bool(taken)

    async def arm(self, script: AnyScript) -> AnyScript:
        store = self._store
        with store._reaching():
            script_id = int(await store.redis.incr(f"{store.prefix}script-ids"))
            armed = dataclasses.replace(script, id=script_id)
            await self._add(args=[store.prefix, script_id, armed.remaining, _script_json(armed)])
        await store.broadcast("scripts")
        return armed

    async def _read(self) -> tuple[int, Armed]:
        store = self._store
        p = store.prefix
        with store._reaching():
            async with store.redis.pipeline(transaction=True) as pipe:
                pipe.get(f"{p}scripts-version")
                pipe.hgetall(f"{p}scripts")
                pipe.hgetall(f"{p}remaining")
                version, scripts, remaining = await pipe.execute()
        return int(version or 0), _armed(scripts, remaining)

    def forget_version(self) -> None:
        """Take the next copy whatever its version (Redis may have lost the count)."""
        self._version = -1

    async def reload(self) -> None:
        """Copy the armed scripts from Redis (a newer copy is never replaced by an older)."""
        version, armed = await self._read()
        if version >= self._version:
            self._version, self._held = version, armed

    async def listing(self) -> Armed:
        return (await self._read())[1]

    async def remove(self, script_id: int) -> bool:
        return await self._remove_scripts(str(script_id)) > 0

    async def reset(self) -> int:
        return await self._remove_scripts("")

    async def _remove_scripts(self, script_id: str) -> int:
        store = self._store
        with store._reaching():
            removed = int(
                await self._remove(keys=[store._once_key()], args=[store.prefix, script_id])
            )
        if removed:
            await store.broadcast("scripts")
        return removed


class RedisJournal:
    """`journal.JournalStore` in Redis: each process buffers its entries and adds them in
    batches (`JOURNAL_FLUSH_SECONDS`, `JOURNAL_FLUSH_ENTRIES`); reading first has every
    process add what it holds (a broadcast), so a read sees every answered request, in the
    order they were answered (the wall clock of the processes)."""

    def __init__(self, store: RedisStore, max_entries: int) -> None:
        self._store = store
        self.max_entries = max_entries
        self._buffer: list[tuple[float, bytes]] = []  # (answered at, `record_of`)
        self._dropped = 0  # entries dropped from a full buffer: their numbers stay taken
        self._numbers = itertools.count(1)  # this process's entries: unique members
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._append = store.redis.register_script(_once(_APPEND_JOURNAL))
        self._reset = store.redis.register_script(_once(_RESET_JOURNAL))

    def record(self, record: bytes) -> None:
        if not self.max_entries:
            return
        self._buffer.append((time.time(), record))  # recorded once answered
        self._trim()
        if len(self._buffer) >= JOURNAL_FLUSH_ENTRIES:
            self._flush_soon(0.0)
        elif self._timer is None:
            self._flush_soon(JOURNAL_FLUSH_SECONDS)

    def _trim(self) -> None:
        """More than the journal keeps (Redis is away, or a burst): the newest only."""
        excess = len(self._buffer) - self.max_entries
        if excess > 0:
            del self._buffer[:excess]
            self._dropped += excess

    def _flush_soon(self, delay: float) -> None:
        if self._flushing is not None and not self._flushing.done():
            return  # it takes what is there when it is done, and looks again
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(delay, self._start_flush)

    def _start_flush(self) -> None:
        self._timer = None
        self._flushing = asyncio.get_running_loop().create_task(self._flush_in_background())

    async def _flush_in_background(self) -> None:
        with contextlib.suppress(RedisUnavailable):  # kept, and tried again with the next
            await self.flush()
        if self._buffer and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(
                JOURNAL_FLUSH_SECONDS, self._start_flush
            )

    async def flush(self) -> None:
        """Add every entry this process holds to the shared journal, the batch a flush in
        the background is adding included (a read must see it, in its place)."""
        flushing = self._flushing
        if flushing is not None and not flushing.done() and flushing is not asyncio.current_task():
            await asyncio.shield(flushing)  # a batch it fails to add comes back to the buffer
        while self._buffer:
            batch, self._buffer = self._buffer, []
            dropped, self._dropped = self._dropped, 0
            store = self._store
            args: list[str | int | float | bytes] = [store.prefix, self.max_entries, dropped]
            origin = store.origin.encode()
            for answered_at, record in batch:
                member = b"%s.%d %s" % (origin, next(self._numbers), record)
                args += [repr(answered_at), member]
            try:
                with store._reaching():
                    await self._append(keys=[store._once_key()], args=args)
            except RedisUnavailable:
                self._buffer[:0] = batch  # not lost: first in line for the next try
                self._dropped += dropped
                self._trim()
                raise

    def drop(self) -> None:
        """Forget the entries this process holds (a reset of the journal)."""
        self._dropped += len(self._buffer)
        self._buffer = []

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def entries(self, query: JournalQuery) -> list[JournalEntry]:
        store = self._store
        await store.broadcast("flush")
        with store._reaching():
            async with store.redis.pipeline(transaction=True) as pipe:
                pipe.get(f"{store.prefix}journal-dropped")
                pipe.zrange(f"{store.prefix}journal", 0, -1)
                dropped, members = await pipe.execute()
        return query.select(
            JournalEntry.from_record(member.partition(" ")[2], number)
            for number, member in enumerate(members, start=int(dropped or 0) + 1)
        )

    async def reset(self) -> int:
        store = self._store
        await store.broadcast("drop")
        with store._reaching():
            return int(await self._reset(keys=[store._once_key()], args=[store.prefix]))
