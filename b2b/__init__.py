"""The project's tooling: the `b2b` command line, the generated documents (OpenAPI, the
configuration table), the compatibility check and the launcher of the development stack. The
only code that knows every service by name; the kernel (`shared/`) and the services never
import it."""
