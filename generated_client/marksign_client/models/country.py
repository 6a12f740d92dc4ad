from enum import StrEnum


class Country(StrEnum):
    EE = "EE"
    LT = "LT"

    def __str__(self) -> str:
        return str(self.value)
