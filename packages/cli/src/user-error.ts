// UserError: a mistake in what the user typed or wrote (a bad number, an unknown format, a scenario
// field). The CLI prints its message as one line on stderr with no stack trace.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}
