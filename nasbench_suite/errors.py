"""The one error type for input a user can get wrong; the CLI prints it as one line and exits 2."""


class UserInputError(ValueError):
    """Bad user input: the message names the problem and the expected form."""
