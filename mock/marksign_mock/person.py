"""The simulated person with the phone: who has an account and how they answer.

Smart-ID's demo environment has test identities whose personal code fixes the outcome
of every session; integrators already know them, so the simulator honours them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class Outcome(enum.Enum):
    """End result of a Smart-ID session (Smart-ID's own names)."""

    OK = "OK"
    USER_REFUSED = "USER_REFUSED"
    USER_REFUSED_DISPLAYTEXTANDPIN = "USER_REFUSED_DISPLAYTEXTANDPIN"
    USER_REFUSED_VC_CHOICE = "USER_REFUSED_VC_CHOICE"
    USER_REFUSED_CONFIRMATIONMESSAGE = "USER_REFUSED_CONFIRMATIONMESSAGE"
    USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE = (
        "USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE"
    )
    WRONG_VC = "WRONG_VC"
    TIMEOUT = "TIMEOUT"
    DOCUMENT_UNUSABLE = "DOCUMENT_UNUSABLE"

    @property
    def error_code(self) -> int | None:
        """The Mark Sign error code of this end result (openapi.yaml's assumed mapping)."""
        return _ERROR_CODES.get(self)


_ERROR_CODES: Final[dict[Outcome, int]] = {
    Outcome.USER_REFUSED: 40020,
    Outcome.USER_REFUSED_DISPLAYTEXTANDPIN: 40020,
    Outcome.USER_REFUSED_VC_CHOICE: 40020,
    Outcome.USER_REFUSED_CONFIRMATIONMESSAGE: 40020,
    Outcome.USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE: 40020,
    Outcome.WRONG_VC: 40020,
    Outcome.TIMEOUT: 40021,
    Outcome.DOCUMENT_UNUSABLE: 40022,
}

# Smart-ID demo identities (LT and EE): personal code -> outcome of every session.
DEMO_IDENTITIES: Final[dict[str, Outcome]] = {
    "30303039914": Outcome.OK,
    "40504040001": Outcome.OK,
    "50001029996": Outcome.OK,
    "39901012239": Outcome.OK,
    "30403039917": Outcome.USER_REFUSED,
    "30403039928": Outcome.USER_REFUSED_DISPLAYTEXTANDPIN,
    "30403039939": Outcome.USER_REFUSED_VC_CHOICE,
    "30403039946": Outcome.USER_REFUSED_CONFIRMATIONMESSAGE,
    "30403039950": Outcome.USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE,
    "30403039972": Outcome.WRONG_VC,
    "30403039983": Outcome.TIMEOUT,
}


@dataclass(frozen=True, slots=True)
class Answer:
    """How the person answers a session: the outcome and when (None: never answers)."""

    outcome: Outcome
    delay: float | None


@dataclass(frozen=True)
class SimulatedPerson:
    """Everyone behind a personal code: demo identities, or anyone with `allow_any_code`."""

    answer_delay: float = 1.0
    allow_any_code: bool = False

    def answer(self, personal_code: str) -> Answer | None:
        """How the person with this code answers a new session; None if they have no account."""
        outcome = DEMO_IDENTITIES.get(personal_code)
        if outcome is None:
            if not self.allow_any_code:
                return None
            outcome = Outcome.OK
        if outcome is Outcome.TIMEOUT:
            return Answer(outcome, None)
        return Answer(outcome, self.answer_delay)

    def scripted(
        self, answer: Answer | None, outcome: Outcome | None, answer_after: float | None
    ) -> Answer:
        """`answer` changed by a test's scenario: its outcome, and/or when the person answers.

        A scenario gives any personal code an account (one that signs unless it says
        otherwise); TIMEOUT means the person never answers.
        """
        outcome = outcome or (answer.outcome if answer is not None else Outcome.OK)
        if outcome is Outcome.TIMEOUT:
            return Answer(outcome, None)
        if answer_after is not None:
            return Answer(outcome, answer_after)
        return Answer(
            outcome, answer.delay if answer and answer.delay is not None else self.answer_delay
        )
