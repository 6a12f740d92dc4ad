"""What one benchmark run measures, and for how long."""

from __future__ import annotations

from dataclasses import dataclass

# Run by default, in this order.
SECTIONS = ("throughput", "redis", "longpoll", "client", "workflow")
# Also run when named: py-spy samples of our simulator under load (or --profile); the soak,
# minutes of steady mixed load (or --soak).
EXTRA_SECTIONS = ("profile", "soak")
# The peers of the throughput section (``bench.peers``), in the table's order.
PEERS = ("prism", "wiremock", "mockoon")


@dataclass(frozen=True)
class Settings:
    sections: tuple[str, ...] = SECTIONS
    # Throughput and latency vs the peers.
    connections: tuple[int, ...] = (1, 50, 200)
    duration: float = 5.0
    warmup: float = 2.0  # seconds of load per server and call before measuring
    # Seconds of load a JVM (WireMock) gets at least, over its calls; more until its rate is
    # flat (bench.throughput.until_flat). Its JIT competes for the one CPU it is pinned to.
    jvm_warmup: float = 60.0
    rounds: int = 3
    peers: tuple[str, ...] = PEERS
    load_generator: str = "auto"  # auto (wrk if present), wrk, python
    # The interpreter that serves ours (bench.interpreters); None: the one running the bench.
    python: str | None = None
    # Before each measured run, wait at most this long for other work on the machine to stop.
    quiet_wait: float = 30.0
    # Long-poll capacity.
    longpoll_sessions: int = 10_000
    longpoll_answer_delay: float = 30.0
    # Client overhead.
    client_calls: int = 500
    client_rounds: int = 7
    # Soak (only when asked for: --soak or --sections soak): one simulator process under a
    # steady mixed load of initialize and status calls over every demo identity.
    soak_minutes: float = 10.0
    soak_rate: float = 50.0  # sessions started per second (two requests each)
    soak_answer_delay: float = 1.0
    soak_session_timeout: float = 10.0  # the one who never answers: 40021 after this
    soak_retention: float = 20.0  # finished sessions are kept this long (levels off early)
    soak_hashes: int = 200  # distinct hashes the sessions cycle through
    # Workflow: `make test` is slow, so it only runs when asked for.
    make_test: bool = False
    profile_seconds: float = 10.0

    @classmethod
    def quick(cls) -> Settings:
        return cls(
            duration=1.0,
            warmup=1.0,
            rounds=1,
            longpoll_sessions=1_000,
            longpoll_answer_delay=8.0,
            client_calls=100,
            client_rounds=3,
            profile_seconds=3.0,
            quiet_wait=5.0,
            jvm_warmup=15.0,
            soak_minutes=1.0,
        )
