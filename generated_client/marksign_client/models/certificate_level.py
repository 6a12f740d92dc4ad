from enum import StrEnum


class CertificateLevel(StrEnum):
    QSCD = "QSCD"
    QUALIFIED = "QUALIFIED"

    def __str__(self) -> str:
        return str(self.value)
