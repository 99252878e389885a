"""A producer run in a forked child process, what it sends consumed here as it comes (issue #13).

For work in two parts on the two cores of a worker: a big settlement file is parsed in the child while this
process checks each parsed batch against the registers and writes it, in its own transaction
(:mod:`benefits.claims.imports`). The child is a copy of this process as of the fork: it reads what this
process holds in memory, never its database connection, files or locks, and leaves by ``os._exit`` (no exit
handlers, no finaliser closing what it shares with its parent). What it sends goes through a pipe, pickled, in
order; a pipe's small buffer keeps the child at most a message ahead of a slower consumer.
"""

from __future__ import annotations

import os
import pickle
import traceback
from collections.abc import Callable, Iterator
from multiprocessing import Pipe
from typing import Any


class ChildFailed(RuntimeError):
    """The child process failed with an exception that could not be handed over as it was, or ended without a
    word (killed, out of memory): its traceback or exit status as text."""


class _Done:
    """The child's last message: it has sent everything."""


class _Failed:
    """The child's last message when it failed: its exception where that pickles, and its traceback."""

    def __init__(self, exc: BaseException | None, text: str):
        self.exc, self.text = exc, text


def can_fork() -> bool:
    return hasattr(os, "fork")


def forked(produce: Callable[[Callable[[Any], None]], None]) -> Iterator[Any]:
    """Run ``produce(send)`` in a forked child process and yield every item it passes to ``send``, in order,
    while it goes on producing. An exception of the child is raised here once the items sent before it have
    been yielded: the same exception where it survives pickling (a file refused, say), else :class:`ChildFailed`
    with its traceback. Closing the iterator early (the consumer failed) ends the child; the child is always
    waited for, so none is left behind."""
    reader, writer = Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the child: produce, report, leave without running anything of the parent's exit
        reader.close()
        code = 0
        try:
            produce(writer.send)
            writer.send(_Done())
        except BaseException as exc:  # whatever it is: the parent is told, the child ends
            code = 1
            try:
                writer.send(_Failed(exc if _survives_pickling(exc) else None, traceback.format_exc()))
            except BaseException:  # the parent has gone: nobody to tell
                pass
        finally:
            os._exit(code)
    writer.close()
    status: int | None = None

    def reap() -> int:  # the child's wait status, waited for once
        nonlocal status
        if status is None:
            status = os.waitpid(pid, 0)[1]
        return status

    try:
        while True:
            try:
                item = reader.recv()
            except EOFError:
                raise ChildFailed(f"子进程未发送完就结束了（{_status_text(reap())}）") from None
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                if item.exc is not None:
                    raise item.exc
                raise ChildFailed(item.text)
            yield item
    finally:
        reader.close()  # a child still sending gets a broken pipe and ends
        reap()


def _survives_pickling(exc: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # any failure: its text is handed over instead
        return False
    return True


def _status_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"信号 {os.WTERMSIG(status)}"
    return f"退出码 {os.WEXITSTATUS(status)}"
