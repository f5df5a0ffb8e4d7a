"""Tasks that acknowledge late are delivered again when their worker dies (STYLE.md)."""

import ast
import inspect

import pytest

from payments import tasks


@pytest.mark.parametrize(
    "task", [tasks.deliver_sandbox_notification, tasks.refund_cancelled_order], ids=lambda t: t.name
)
def test_late_acknowledged_tasks_are_redelivered_if_the_worker_is_lost(task):
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_every_late_acknowledged_task_says_so_itself():
    """Not left to the global task_reject_on_worker_lost, which a deployment may change."""
    late = {}
    for node in ast.walk(ast.parse(inspect.getsource(tasks))):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call):
                    options = {
                        k.arg: ast.literal_eval(k.value)
                        for k in decorator.keywords
                        if isinstance(k.value, ast.Constant)
                    }
                    if options.get("acks_late"):
                        late[node.name] = options.get("reject_on_worker_lost")

    assert late == {
        "refund_cancelled_order": True,
        "sweep_cancelled_refunds": True,
        "deliver_sandbox_notification": True,
    }
