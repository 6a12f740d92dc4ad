"""The API's errors as exceptions: Mark Sign's error codes, their HTTP status, and messages.

Nothing here knows about requests or bodies. The models and the responses raise
`ApiError`; `rendering` turns it into the error shape with the status that
`openapi.yaml` assumes: the first three digits of the code.
"""

from __future__ import annotations

from typing import Final

from marksign_spec import Locale

# code -> (English, Lithuanian). `{...}` fields are filled from ApiError's params.
MESSAGES: Final[dict[int, tuple[str, str]]] = {
    40001: (
        "Invalid parameter [{param}]: {detail}",
        "Neteisingas parametras [{param}]: {detail}",
    ),
    40003: ("Invalid access token", "Neteisingas prieigos raktas"),
    40004: ("Phone is of incorrect format", "Neteisingas telefono numerio formatas"),
    40005: ("Person code is of incorrect format", "Neteisingas asmens kodo formatas"),
    40020: (
        "User refused the session or chose the wrong verification code",
        "Naudotojas atšaukė sesiją arba pasirinko neteisingą kontrolinį kodą",
    ),
    40021: ("Session expired", "Sesijos laikas baigėsi"),
    40022: (
        "Document format corrupted, unusable",
        "Dokumento formatas sugadintas, jo naudoti negalima",
    ),
    40400: ("Unknown path", "Nežinomas kelias"),
    40401: ("Invalid user (account not found)", "Neteisingas naudotojas (paskyra nerasta)"),
    40402: ("Session for given token was not found", "Sesija pagal pateiktą raktą nerasta"),
    40403: ("Account is not qualified", "Paskyra nėra kvalifikuota"),
    40500: ("Method not allowed", "Metodas neleidžiamas"),
    41300: (
        "Request body too large (limit {limit} bytes)",
        "Užklausos turinys per didelis (riba {limit} baitų)",
    ),
    41500: (
        "Unsupported content type: send application/json",
        "Nepalaikomas turinio tipas: siųskite application/json",
    ),
    40801: (
        "Timeout while acquiring certificate",
        "Baigėsi sertifikato gavimo laikas",
    ),
    42900: ("Too many live sessions", "Per daug aktyvių sesijų"),
    50000: ("Issues while processing the request", "Klaida apdorojant užklausą"),
    50001: ("Technical error in service", "Techninė paslaugos klaida"),
    50002: ("Cannot establish a connection", "Nepavyko užmegzti ryšio"),
    50003: ("Not authorized to use the service", "Neturite teisės naudotis paslauga"),
    50004: (
        "Client side configuration is incorrect",
        "Neteisinga kliento pusės konfigūracija",
    ),
}

# The `detail` of 40001, worded like Symfony's validator messages (the gateway's own).
DETAILS: Final[dict[str, tuple[str, str]]] = {
    "blank": ("This value should not be blank.", "Ši reikšmė negali būti tuščia."),
    "invalid": ("This value is not valid.", "Ši reikšmė yra neteisinga."),
    # A key the schema does not have (the control plane's requests: the gateway ignores them).
    "unexpected": ("This field was not expected.", "Nebuvo tikimasi Šis laukas."),
    "type": ("This value should be of type {type}.", "Šios reikšmės tipas turi būti {type}."),
    "too_long": (
        "This value is too long. It should have {limit} characters or less.",
        "Per ilga reikšmė. Turi būti {limit} arba mažiau simbolių.",
    ),
    "too_short": (
        "This value is too short. It should have {limit} characters or more.",
        "Per trumpa reikšmė. Turi būti {limit} arba daugiau simbolių.",
    ),
}


def http_status(code: int) -> int:
    """The HTTP status of an error code: its first three digits (`40402` -> 404)."""
    return code // 100


class ApiError(Exception):
    """A failed request, as the gateway reports it: an `error_code` and message parameters."""

    def __init__(self, code: int, **params: str | int) -> None:
        if code not in MESSAGES:
            raise ValueError(f"unknown error code {code}")
        super().__init__(code)
        self.code = code
        self.params = params

    @classmethod
    def invalid_parameter(cls, param: str, detail: str, **params: str | int) -> ApiError:
        """40001 naming `param`; `detail` is a key of DETAILS (blank, invalid, type, ...)."""
        if detail not in DETAILS:
            raise ValueError(f"unknown detail {detail!r}")
        return cls(40001, param=param, detail=detail, **params)

    @property
    def status(self) -> int:
        return http_status(self.code)

    @property
    def cacheable(self) -> bool:
        """Whether its body depends on the code and locale alone (and can be reused)."""
        return not self.params

    def message(self, locale: Locale) -> str:
        index = 0 if locale == "en" else 1
        params = dict(self.params)
        detail = params.get("detail")
        if isinstance(detail, str):
            params["detail"] = DETAILS[detail][index].format(**params)
        return MESSAGES[self.code][index].format(**params)

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.params!r})"


class ScriptedError(ApiError):
    """An error a test scripted (`/_mock/errors`): the code's own message in the request's
    locale, unless the script gave one."""

    def __init__(self, code: int, message: str | None = None) -> None:
        # 40001 names a parameter; a scripted one names the request as a whole.
        params: dict[str, str | int] = (
            {"param": "request", "detail": "invalid"} if code == 40001 else {}
        )
        super().__init__(code, **params)
        self.given = message

    @property
    def cacheable(self) -> bool:
        return self.given is None and super().cacheable

    def message(self, locale: Locale) -> str:
        return super().message(locale) if self.given is None else self.given


class MethodNotAllowed(ApiError):
    """40500: the path exists, the method does not; `allow` lists the path's methods."""

    def __init__(self, allow: str) -> None:
        super().__init__(40500)
        self.allow = allow
