"""One whole escalation through the client openapi-python-client generates from
openapi/openapi.json with its default settings, against a live demo server
(`escalade serve --demo`): the partner finds the customer, tries self-help, dry-runs and
submits; an operator takes it from the triage queue to resolved under If-Match; the partner
reads the trail. Only generated code talks to the server.

    ESCALADE_URL=http://127.0.0.1:8080 ESCALADE_PARTNER_KEY=esc_… ESCALADE_OPERATOR_KEY=esc_… \
        python clients/python/flow.py
"""

import os
import uuid
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import TypeVar

from escalade_client import AuthenticatedClient
from escalade_client.api.customers import list_customers
from escalade_client.api.escalations import (
    add_escalation_note,
    create_escalation,
    download_escalation_attachment,
    get_escalation,
    list_escalation_events,
    list_escalations,
    transition_escalation,
    upload_escalation_attachment,
    validate_escalation,
)
from escalade_client.api.self_help import get_self_help
from escalade_client.api.services import list_services
from escalade_client.models import (
    Attachment,
    Category,
    ContactMethod,
    CustomerList,
    EngineerInput,
    Escalation,
    EscalationInput,
    EscalationList,
    EventList,
    Language,
    ListEscalationsOrder,
    NewNote,
    Note,
    Outcome,
    PartnerContactInput,
    Problem,
    Reason,
    SelfHelp,
    ServiceList,
    Severity,
    Status,
    TransitionToInProgress,
    TransitionToInProgressTo,
    TransitionToResolved,
    TransitionToResolvedTo,
    TroubleshootingInput,
    ValidationReport,
)
from escalade_client.types import File, Response

T = TypeVar("T")


def answer(response: Response[object], kind: type[T], status: int) -> T:
    """The typed body of an answer expected to have `status`."""
    assert response.status_code == status, (response.status_code, response.content)
    assert isinstance(response.parsed, kind), response.parsed
    return response.parsed


def submission(customer_id: uuid.UUID, steps: list[str]) -> EscalationInput:
    now = datetime.now(UTC)
    return EscalationInput(
        customer_id=customer_id,
        service_key="microsoft-365",
        category=Category.SERVICE_UNAVAILABLE,
        severity=Severity.MODERATE,
        title="Exchange Online 邮件无法投递到外部域",
        description="自 09:10 起，全部用户发往外部域的邮件停留在队列中，退信代码 4.4.7。",
        business_impact="300 名员工无法与客户和供应商通信。",
        problem_started_at=now - timedelta(hours=2),
        reasons=[Reason.LACKS_SUPPORT_TOOLS],
        justification="需要世纪互联的传输日志才能确定邮件在服务端被阻塞的原因。",
        troubleshooting=TroubleshootingInput(
            service_health_checked_at=now - timedelta(minutes=10),
            admin_center_attempted=True,
            steps=steps,
        ),
        contact=PartnerContactInput(
            first_name="伟",
            last_name="张",
            email="zhang.wei@cloudbridge.cn",
            phone="+86 10 5555 0199",
            preferred_contact_method=ContactMethod.EMAIL,
            preferred_language=Language.ZH_HANS,
            time_zone="Asia/Shanghai",
            available_24x7=False,
        ),
    )


def main() -> None:
    url = os.environ["ESCALADE_URL"]
    partner = AuthenticatedClient(base_url=url, token=os.environ["ESCALADE_PARTNER_KEY"])
    operator = AuthenticatedClient(base_url=url, token=os.environ["ESCALADE_OPERATOR_KEY"])

    # The partner finds the customer by the start of its name, and looks at the service.
    found = answer(list_customers.sync_detailed(client=partner, q="上海"), CustomerList, 200)
    customer = found.items[0]
    assert customer.company_name == "上海云启科技有限公司", customer.company_name
    services = answer(list_services.sync_detailed(client=partner), ServiceList, 200)
    assert any(service.key == "microsoft-365" for service in services.items)
    help_ = answer(get_self_help.sync_detailed(customer.id, "microsoft-365", client=partner), SelfHelp, 200)
    assert help_.active_incidents == []

    # A dry run without troubleshooting steps fails one criterion; with them, none.
    lacking = answer(
        validate_escalation.sync_detailed(client=partner, body=submission(customer.id, [])),
        ValidationReport,
        200,
    )
    failed = [check.criterion for check in lacking.checks if check.outcome == Outcome.FAILED]
    assert [str(c) for c in failed] == ["partner_troubleshooting"], failed
    body = submission(customer.id, ["在管理中心运行了邮件流诊断"])
    checked = answer(validate_escalation.sync_detailed(client=partner, body=body), ValidationReport, 200)
    assert checked.eligible, checked.checks

    # Submitting with an Idempotency-Key: a retry answers the same escalation.
    key = f"python-flow-{uuid.uuid4()}"
    submitted = create_escalation.sync_detailed(client=partner, body=body, idempotency_key=key)
    escalation = answer(submitted, Escalation, 201)
    retried = create_escalation.sync_detailed(client=partner, body=body, idempotency_key=key)
    assert answer(retried, Escalation, 201).id == escalation.id
    assert retried.headers["idempotency-replayed"] == "true"
    read = get_escalation.sync_detailed(escalation.id, client=partner)
    assert answer(read, Escalation, 200).status == Status.SUBMITTED
    note = add_escalation_note.sync_detailed(
        escalation.id, client=partner, body=NewNote(text="客户可随时配合远程排查。")
    )
    answer(note, Note, 201)
    # The log the technician will ask for, attached as bytes and read back by range.
    log = ("2026-11-24 09:10:02 451 4.4.7 邮件在队列中过期\n" * 400).encode()
    uploaded = upload_escalation_attachment.sync_detailed(
        escalation.id, client=partner, filename="queue.log", body=File(payload=BytesIO(log))
    )
    attached = answer(uploaded, Attachment, 201)
    assert attached.size_bytes == len(log), attached
    head = download_escalation_attachment.sync_detailed(
        escalation.id, attached.id, client=operator, range_="bytes=0-18"
    )
    assert head.status_code == 206, head
    assert head.content == log[:19], head.content

    # The operator finds it in the triage queue and works it under If-Match.
    queue = answer(
        list_escalations.sync_detailed(
            client=operator, order=ListEscalationsOrder.DUE, status=Status.SUBMITTED
        ),
        EscalationList,
        200,
    )
    assert escalation.id in [item.id for item in queue.items]
    stale = read.headers["etag"]
    started = transition_escalation.sync_detailed(
        escalation.id,
        client=operator,
        if_match=stale,
        body=TransitionToInProgress(
            to=TransitionToInProgressTo.IN_PROGRESS,
            engineer=EngineerInput(name="李娜", email="li.na@oe.21vianet.com"),
        ),
    )
    assert answer(started, Escalation, 200).status == Status.IN_PROGRESS

    def resolve(if_match: str) -> Response[Escalation | Problem]:
        return transition_escalation.sync_detailed(
            escalation.id,
            client=operator,
            if_match=if_match,
            body=TransitionToResolved(
                to=TransitionToResolvedTo.RESOLVED,
                reason="已在服务端清除传输队列，外部邮件恢复投递。",
            ),
        )

    # The tag read before the start is stale now: a typed problem says so.
    refused = answer(resolve(stale), Problem, 412)
    assert refused.code == "stale_version", refused
    resolved = answer(resolve(started.headers["etag"]), Escalation, 200)
    assert resolved.status == Status.RESOLVED

    # The partner reads every step in the trail.
    events = answer(list_escalation_events.sync_detailed(escalation.id, client=partner), EventList, 200)
    kinds = [event.kind for event in events.items]
    assert kinds == ["created", "note_added", "attachment_added", "status_changed", "status_changed"], kinds

    # Another partner's view of it, or an unknown one, arrives as a typed problem too.
    unknown = answer(get_escalation.sync_detailed(uuid.uuid4(), client=partner), Problem, 404)
    assert unknown.code == "not_found", unknown
    print(f"python flow: {escalation.number} submitted, worked and resolved through the generated client")


if __name__ == "__main__":
    main()
