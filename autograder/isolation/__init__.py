"""Isolation: where a submission's code runs, and what it can reach from there.

Student code never runs in the grader's own process.  Three layers keep it in:

* :mod:`~autograder.isolation.sandbox` - bubblewrap (``bwrap``): a read-only system, no network,
  an address-space cap and one writable folder; :class:`~.sandbox.SandboxPolicy` says how a
  kernel is confined, and ``sandbox`` builds the jupyter_client kernel manager for a submission.
* :mod:`~autograder.isolation.warm` and :mod:`~autograder.isolation.zygote` - the warm-kernel
  server: ``warm`` (grader side) starts ``zygote`` inside such a sandbox, where it imports the
  chapter's libraries once and forks one kernel per submission, each confined further (its own
  namespaces, a fresh ``/tmp``, no capabilities) before any student code runs.
* :mod:`~autograder.isolation.relay` - what jupyter_client starts in place of the kernel process
  when the kernel comes from the warm server: it asks the server for a kernel, passes interrupts
  on and exits with the kernel's status.

:mod:`~autograder.isolation.protocol` defines, once, the words the grader, the server and the
relay say to each other.  ``zygote.py`` and ``relay.py`` run as scripts by another Python
process (the relay as ``python -I -S``) in which this package is not importable, so they use
the standard library only and load ``protocol.py`` from their own folder by path.

The limits themselves (times, memory, output) live in :class:`autograder.execute.Limits` and
its ``sandbox`` field, a :class:`~.sandbox.SandboxPolicy`.

This package exports nothing itself: import from its modules, e.g.
``from autograder.isolation.sandbox import SandboxPolicy``.
"""
