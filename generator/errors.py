"""Typed errors. Libraries raise them; only the CLI (and the pytest plugin) turn them into messages."""


class McuforgeError(Exception):
    """Base for every error mcuforge reports to a user (one clear line, exit code 2)."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ModelError(McuforgeError):
    """The model file cannot be read, or is not a valid TFLite flatbuffer."""


class UnsupportedModelError(McuforgeError):
    """The model is valid but uses something the AOT compiler does not handle."""


class OutputExistsError(McuforgeError):
    """The output path exists and --force was not given."""


class ToolError(McuforgeError):
    """An external tool (compiler, west, pio, qemu) failed."""


class UsageError(McuforgeError):
    """Bad command-line input not covered by a more precise error."""
