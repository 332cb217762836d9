"""The sandboxed child: loads one submission and answers calls on it with plain data.

It is started as a script by `process.py` and imports nothing of gradekit, so nothing the grader
trusts lives in this process. Requests and replies are JSON lines on two private pipes; stdout and
stderr belong to the student and go, capped, to a file the grader never parses. Every result is
converted to numbers and lists here, so no student object (and no lying __eq__) ever leaves.
"""
import io
import json
import os
import resource
import signal
import sys
import traceback
import types

SPAWN_EVENTS = {
    "os.system", "os.fork", "os.forkpty", "os.posix_spawn", "os.exec", "os.spawn", "subprocess.Popen",
}
MAX_DEPTH = 8


class NotPlain(Exception):
    """A returned value with no honest reading as a number or a (nested) list of numbers."""


class CappedOutput(io.TextIOBase):
    """stdout/stderr that keep the first bytes and drop the rest, so printing 200 MB costs nothing."""

    def __init__(self, fd, budget):
        self.fd = fd
        self.budget = budget

    def writable(self):
        return True

    def write(self, text):
        room = self.budget[0]
        if room > 0:
            data = str(text).encode("utf-8", "replace")[:room]
            os.write(self.fd, data)
            self.budget[0] -= len(data)
        return len(text)


def apply_limits(settings):
    resource.setrlimit(resource.RLIMIT_AS, (settings["memory_bytes"], settings["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (settings["file_bytes"], settings["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Past the file limit a write should fail with an error the student sees, not kill the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def guard(blocked_names, blocked_roots):
    """Refuse the grader's own code and new processes; audit hooks cannot be removed once added."""
    roots = tuple(os.path.join(os.path.realpath(r), "") for r in blocked_roots)

    def hook(event, args):
        if event == "import" and args[0].partition(".")[0] in blocked_names:
            raise ImportError(f"{args[0]} is not available to a submission being graded")
        if event == "open" and isinstance(args[0], (str, bytes)):
            path = os.path.realpath(os.fsdecode(args[0]))
            if path.startswith(roots):
                raise PermissionError(f"{path} is not readable by a submission being graded")
        if event in SPAWN_EVENTS:
            raise PermissionError("starting processes is not allowed while grading")

    sys.addaudithook(hook)


def to_plain(value, depth=0):
    """The number or nested list a returned value stands for; NumPy is never imported for it."""
    if depth > MAX_DEPTH:
        raise NotPlain("a structure nested too deeply")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (list, tuple)):
        if all(type(v) is float for v in value):  # the common case, checked at C speed
            return list(value)
        return [to_plain(v, depth + 1) for v in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # NumPy arrays, NumPy scalars and 0-d arrays (whose .data is a buffer)
        return to_plain(tolist(), depth + 1)
    data = getattr(value, "data", None)
    if isinstance(data, (int, float)) and not isinstance(data, bool):  # microgpt's Value
        return float(data)
    if data is not None and hasattr(data, "tolist"):
        return to_plain(data, depth + 1)
    raise NotPlain(f"a {type(value).__name__}")


def describe(exc, filename):
    """The exception as one line of data, with the line of the submission it came from."""
    line = None
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == filename:
            line = lineno
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    if isinstance(exc, SystemExit):
        message = f"sys.exit({exc.code!r}) was called"
    return {"type": type(exc).__name__, "message": message[:500], "line": line}


class Session:
    def __init__(self):
        self.module = None
        self.filename = "submission.py"

    def load(self, request):
        self.filename = request["filename"]
        module = types.ModuleType("submission")
        module.__file__ = os.path.join(os.getcwd(), self.filename)
        sys.modules["submission"] = module
        try:
            exec(compile(request["source"], self.filename, "exec"), module.__dict__)
        except BaseException as exc:
            return {"ok": False, "error": describe(exc, self.filename)}
        finally:
            self.module = module
        return {"ok": True, "functions": self.functions()}

    def functions(self):
        found = {}
        for name, value in vars(self.module).items():
            if not name.startswith("_") and callable(value) and not isinstance(value, types.ModuleType):
                code = getattr(value, "__code__", None)
                found[name] = code.co_firstlineno if code and code.co_filename == self.filename else None
        return found

    def call(self, request):
        function = getattr(self.module, request["function"], None)
        if not callable(function):
            return {"ok": False, "missing": True}
        args = request["args"]
        try:
            result = function(*args)
        except BaseException as exc:
            return {"ok": False, "error": describe(exc, self.filename)}
        try:
            reply = {"ok": True, "returned": to_plain(result)}
            if request.get("want_args"):
                reply["args_after"] = to_plain(args)
        except NotPlain as exc:
            message = f"returned {exc}, which is not a number or a list of numbers"
            return {"ok": False, "error": {"type": "NotANumber", "message": message, "line": None}}
        except BaseException as exc:
            return {"ok": False, "error": describe(exc, self.filename)}
        return reply


def serve(settings):
    session = Session()
    requests = os.fdopen(settings["request_fd"], "rb")
    reply_fd = settings["reply_fd"]
    for line in requests:
        request = json.loads(line)
        reply = session.load(request) if request["op"] == "load" else session.call(request)
        reply["id"] = request["id"]
        data = json.dumps(reply).encode() + b"\n"
        if len(data) > settings["reply_bytes"]:
            error = {"type": "TooLarge", "message": "returned more data than the grader accepts", "line": None}
            data = json.dumps({"id": request["id"], "ok": False, "error": error}).encode() + b"\n"
        while data:
            data = data[os.write(reply_fd, data):]


def main():
    del sys.path[0]  # this script's own folder: the grader's package
    settings = json.loads(sys.argv[1])
    apply_limits(settings)
    guard(set(settings["blocked_names"]), settings["blocked_roots"])
    budget = [settings["output_bytes"]]
    sys.stdout = CappedOutput(1, budget)
    sys.stderr = CappedOutput(2, budget)
    serve(settings)


if __name__ == "__main__":
    main()
