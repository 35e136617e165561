# escalade's words in English. Codes (in backticks) are what programs send and match on; they
# never change with the language. Every message here exists in zh-Hans/escalade.ftl with the
# same arguments (a test checks both).

list-separator = {", "}
list-or = {" or "}
clause-separator = {"; "}

## Problem titles: the HTTP status of the answer.

status-400 = Bad Request
status-401 = Unauthorized
status-403 = Forbidden
status-404 = Not Found
status-405 = Method Not Allowed
status-408 = Request Timeout
status-409 = Conflict
status-410 = Gone
status-412 = Precondition Failed
status-413 = Payload Too Large
status-415 = Unsupported Media Type
status-416 = Range Not Satisfiable
status-422 = Unprocessable Entity
status-428 = Precondition Required
status-429 = Too Many Requests
status-500 = Internal Server Error
status-503 = Service Unavailable

## Problem details.

problem-bad-request = the request could not be read
problem-unreadable-body = the request body could not be read
problem-malformed-json = the body is not valid JSON (line { $line }, column { $column })
problem-invalid-query = the query string is invalid
problem-invalid-path-parameter = a path parameter is malformed
problem-unauthorized = sign in with your organisation, or use a valid API key
problem-forbidden = role `{ $role }` may not do this; allowed: { $allowed }
problem-not-found = { $resource } not found
problem-method-not-allowed = allowed methods: { $allowed }
problem-duplicate-escalation = { $number } is already open for this customer, service and category
problem-criteria-not-met = { $count ->
    [one] the escalation does not meet one of 21Vianet's escalation criteria
   *[other] the escalation does not meet { $count } of 21Vianet's escalation criteria
}
problem-stale-version = the resource has changed since it was read; fetch it again and retry with its new ETag
problem-body-timeout = the request body did not arrive within { $seconds ->
    [one] { $seconds } second
   *[other] { $seconds } seconds
}
problem-body-too-large = the request body exceeds { $limit } bytes
problem-unsupported-media-type = the request body must be application/json
problem-if-match-required = send If-Match with the ETag from your last read so concurrent changes are not lost
problem-idempotency-key-in-use = a request with this Idempotency-Key is still in progress; retry shortly
problem-invalid-idempotency-key = Idempotency-Key must be 1 to { $max } visible ASCII characters
problem-idempotency-key-reused = this Idempotency-Key was used for a different request (method, path or body); use a new key for a new request
problem-rate-limited = too many requests for this API key; retry after { $seconds ->
    [one] { $seconds } second
   *[other] { $seconds } seconds
}
problem-too-many-failed-authentications = too many requests without a valid API key from this address; retry after { $seconds ->
    [one] { $seconds } second
   *[other] { $seconds } seconds
}
problem-database-unavailable = the database is unavailable; retry shortly
problem-database-busy = the database is too busy to answer right now, and nothing was changed; retry in a moment
problem-tenant-not-registered = your organisation is not registered with escalade: its people can sign in once 21Vianet registers it as a partner
problem-role-not-allowed = your account has no escalade role your organisation may hold; ask your organisation's administrator to assign you one
problem-person-disabled = your access to escalade has been disabled; ask an escalade administrator
problem-storage-unavailable = the attachment store is unavailable; nothing was recorded, retry shortly
problem-escalation-closed = files can be attached or removed only while the escalation is open; it is { $status }
problem-too-many-attachments = the escalation already holds { $max } files, the most it may hold; remove one first
problem-attachment-too-large = the file exceeds { $limit } bytes, the largest accepted; compress it or split it
problem-attachments-total-too-large = the escalation's files may add up to { $total } bytes, and { $left } are left; remove a file or compress this one
problem-attachment-kind = files of type { $kind } are not accepted: attach images, PDF, text or logs, JSON or HAR, or a zip or gzip archive
problem-attachment-binary = the file is neither of an accepted binary kind nor UTF-8 text: attach images, PDF, text or logs, JSON or HAR, or a zip or gzip archive
problem-empty-attachment = the file is empty
problem-not-the-uploader = only the side that uploaded this file may remove it
problem-range-not-satisfiable = the range asked for lies outside the file's { $size } bytes
problem-events-expired = the events after { $after } are no longer kept (the feed keeps { $days } days); sync again from the start, without `after`
problem-invalid-last-event-id = Last-Event-ID must be the id of an event the stream sent
problem-too-many-streams = { $limit } event streams are already open for this API key or person, the most allowed; close one first
problem-internal-error = an unexpected error occurred; it has been logged
problem-cors-origin = this origin may not call the API from a browser
problem-cors-method = this method may not be used from another origin
problem-cors-headers = a requested header may not be sent from another origin
problem-cors-malformed = the CORS preflight request is malformed
problem-partner-own-tenant = the partner's own tenant is not covered: escalate for customers only
problem-customer-in-use = the customer has escalations, which keep their history: it cannot be deleted
problem-reopen-window-closed = the escalation was resolved at { $resolved_at }; it can be reopened within { $days } days only
problem-invalid-transition = { $count ->
    [0] a { $from } { $thing } is final and cannot become { $to }
   *[other] a { $from } { $thing } cannot become { $to }; possible: { $possible }
}

## What a 404 names.

resource-api-key = API key
resource-customer = customer
resource-delivery = delivery
resource-event = event
resource-attachment = attachment
resource-escalation = escalation
resource-partner = partner
resource-person = person
resource-remediation-plan = remediation plan
resource-route = route
resource-service = service
resource-service-incident = service incident
resource-subscription = subscription
resource-webhook-endpoint = webhook endpoint
resource-business-calendar = business calendar for that year
resource-other = resource

## What moves through a lifecycle.

thing-escalation = escalation
thing-incident = incident
thing-remediation-plan = remediation plan
thing-subscription = subscription
side-operator = operator
side-partner = partner
move-by-side = { $to } ({ $side })

## Conflicts with stored values.

conflict-customer-tenant = you already have a customer with this tenant_id
conflict-partner-mpn-id = a partner with this mpn_id already exists
conflict-partner-tenant = a partner with this tenant_id already exists
conflict-service-key = a service with this key already exists
conflict-subscription-service = the customer already has a subscription to this service that is not deleted

## Field errors.

fields-invalid = { $count ->
    [one] 1 field is invalid
   *[other] { $count } fields are invalid
}
field-required = is required
field-filename = use 1 to { $max } characters, without /, \ or control characters
field-invalid = is invalid
field-unknown = is not a field of this request
field-body-object = must be a JSON object
field-allowed-values = must be one of: { $values }
field-invalid-type = must be { $expected }
field-invalid-type-unknown = has the wrong type
type-string = a string
type-integer = a whole number
type-boolean = true or false
type-uuid = a UUID
type-date-time = an RFC 3339 date and time, such as 2026-11-24T09:30:00+08:00
type-date = a date such as 2026-11-24
type-list = a list
type-object = an object
field-duplicate-values = must not list a value twice
field-length-exactly = { $count ->
    [one] must have exactly 1 item or character
   *[other] must have exactly { $count } items or characters
}
field-length-between = must have { $min } to { $max } items or characters
field-length-at-least = { $min ->
    [one] must have at least 1 item or character
   *[other] must have at least { $min } items or characters
}
field-length-at-most = must have at most { $max } items or characters
field-range-between = must be between { $min } and { $max }
field-range-at-least = must be at least { $min }
field-range-at-most = must be at most { $max }
field-invalid-uuid = must be a UUID
field-invalid-year = must be a four-digit year from { $first } to { $last }, such as 2026
field-invalid-datetime = must be an RFC 3339 date and time, such as 2026-11-24T09:30:00+08:00
field-datetime-out-of-range = must fall in the years { $first } to { $last }
field-invalid-cursor = must be a next_cursor value from a previous page
field-unknown-event-type = names no event type; the types are { $types }
field-idempotency-key = use 1 to { $max } visible ASCII characters, such as a UUID
field-idempotency-key-reused = already used for a different request
field-partner-own-tenant = is the partner's own tenant
field-partner-id-required = is required for partner keys
field-partner-id-not-allowed = must be absent for admin and operator keys
field-reason-required = is required to move to { $to }
field-misescalation-required = say whether it was incorrectly escalated
field-misescalation-not-allowed = is given only when rejecting
field-engineer-only-when-starting = is assigned only when work starts (to: in_progress)
field-engineer-one-way = is given either in full or as one of 21Vianet's people, not both
field-engineer-person-unknown = names none of 21Vianet's people who may be assigned: see the people list
field-engineer-required-to-start = is required when work starts
field-engineer-by-operators = is assigned by 21Vianet's operators only
field-respond-by-in-the-past = must be today or later, Beijing time
field-url-unresolvable = the host name does not resolve; use a name with public DNS records
field-url-not-public = the host is or resolves to { $address }, a loopback, private, link-local or reserved address; webhooks go to public addresses only
field-invalid-transition = { $count ->
    [0] `{ $from }` is final
   *[other] from { $from }: possible { $possible }
}

## The rules of values.

invalid-text-length = must be { $min } to { $max } characters long, not only spaces
invalid-control-characters = must not contain control characters
invalid-paragraph-control-characters = must not contain control characters other than line breaks and tabs
invalid-mpn-id = must be a Microsoft Partner Network id of 1 to 10 digits
invalid-domain = must be a DNS name such as contoso.partner.onmschina.cn: two or more labels of letters, digits and inner hyphens, the last starting with a letter (internationalised names in their xn-- form)
invalid-email = must be an e-mail address such as it-ops@contoso.cn
invalid-phone = must be an international number such as +86 10 5555 0100
invalid-phone-not-in-use = is not a number in use in its country: check the country code and the digits
invalid-time-zone = must be an IANA time zone name such as Asia/Shanghai
invalid-country = must be an ISO 3166-1 alpha-2 code in upper case, such as CN
invalid-search-too-short = must be at least { $min } characters: one character matches too much to help
invalid-search-without-word = must hold at least two letters or digits side by side, such as 星河 or ntos
invalid-service-key = must be 2 to 50 lower-case letters and digits in hyphen-separated groups, such as microsoft-365
invalid-https-url = must be an https:// address such as https://portal.azure.cn
invalid-webhook-url = must be an absolute http:// or https:// address such as https://hooks.example.com/escalade

## 21Vianet's escalation criteria: why each passes or fails.

criterion-reasons = { $reasons }
criterion-needs-customer = cannot be judged without one of your customers
criterion-customer-yours = the customer is yours
criterion-customer-not-yours = no customer of yours has this id
criterion-own-tenant = the customer is your own tenant, which escalation support does not cover
criterion-not-own-tenant = the customer is not your own tenant
criterion-service-unknown = the service is not in the catalog
criterion-service-marketplace = the service is run by { $operator }: marketplace products go to their publisher, not to 21Vianet
criterion-service-first-party = 21Vianet operates this first-party service
criterion-subscription-active = the customer's subscription is active
criterion-subscription-inactive = the customer's subscription is { $status }, not active
criterion-subscription-none = the customer has no subscription to this service
criterion-category-partner-work = `{ $category }` is the partner's own work and is not escalated to 21Vianet
criterion-category-not-accepted = the service does not accept `{ $category }`
criterion-category-handled = 21Vianet handles `{ $category }`
criterion-reasons-given = reasons and a justification are given
criterion-reason-missing = name at least one reason: lacks_training, lacks_documentation or lacks_support_tools
criterion-justification-missing = explain why you cannot solve the problem yourself, in at least { $min } characters
criterion-try-admin-center = try the admin center first
criterion-list-a-step = list at least one troubleshooting step
criterion-check-health = check service health first
criterion-health-check-in-future = the service health check time lies in the future
criterion-health-check-stale = check service health again: the last check is more than 24 hours old
criterion-troubleshooting-done = admin center tried, steps listed, service health checked within 24 hours
criterion-no-incident = no incident is open on the service
criterion-incidents-unrelated = every open incident on the service is named as unrelated
criterion-incidents-open = { $count ->
    [one] 1 incident is open on the service: escalate after it ends, or name it in unrelated_incident_ids if the problem is unrelated: { $incidents }
   *[other] { $count } incidents are open on the service: escalate after they end, or name them in unrelated_incident_ids if the problem is unrelated: { $incidents }
}
criterion-severity-no-entitlement = severity `{ $severity }` is open to every customer
criterion-severity-above-kind = { $kind ->
    [billing] billing, subscription and quota problems
   *[technical] technical problems
} are escalated at { $highest ->
    [moderate] severity B (moderate)
   *[minimal] severity C (minimal)
} at most, as 21Vianet's support plan sets; choose that severity or a lower one
criterion-critical-needs-premium = severity A (`critical`) is for customers with the 21Vianet premium agreement
criterion-critical-needs-24x7 = the contact must be available 24x7
criterion-critical-needs-phone = the contact must be reachable by phone
criterion-critical-entitled = premium customer, contact reachable by phone 24x7
criterion-contact-complete = the partner contact is complete
criterion-contact-lacks = the partner contact lacks { $fields }
criterion-duplicate-open = { $number } is already open for this customer, service and category
criterion-no-duplicate = no open escalation for this customer, service and category
criterion-partner-suspended = the partner is suspended
criterion-partner-in-good-standing = the partner is in good standing
criterion-remediation-overdue = { $count ->
    [one] a remediation plan requested by 21Vianet is unanswered past its deadline
   *[other] { $count } remediation plans requested by 21Vianet are unanswered past their deadline
}

## Self-help: what would keep an escalation from being accepted.

advice-marketplace = this service is run by { $operator }, not escalated to 21Vianet: contact its publisher
advice-subscription-inactive = the customer's subscription is { $status }: only active subscriptions are escalated
advice-incidents-open = { $count ->
    [one] 1 incident is open on this service: escalate only if the problem persists after it ends, or name it as unrelated
   *[other] { $count } incidents are open on this service: escalate only if the problem persists after they end, or name them as unrelated
}

## Escalation quality.

quality-summary = { $escalations ->
    [one] 1 escalation
   *[other] { $escalations } escalations
} in the last { $days } days, { $misescalations } rejected as misescalations ({ $rate }%): { $verdict ->
    [exceeds] at or above the { $threshold }% threshold, so 21Vianet may request a remediation plan.
    [too-few] too few to judge (at least { $min } are needed).
   *[within] below the { $threshold }% threshold.
}

## Names of values, as the vocabulary answers them: categories of problem.

category-service_unavailable = Service unavailable
category-undocumented_defect = Undocumented defect
category-product_bug = Product bug
category-network_disruption = Network disruption
category-regional_multi_tenant_issue = Regional multi-tenant issue
category-billing_dispute = Billing dispute
category-how_to = How-to question
category-account_setup = Account setup
category-software_configuration = Software configuration
category-client_connectivity = Client connectivity and desktop
category-service_update_question = Question about a service update
category-performance_within_partner_control = Performance within the partner's control

## Escalation severities.

severity-critical = Critical (A)
severity-moderate = Moderate (B)
severity-minimal = Minimal (C)

## Why the partner cannot solve the problem itself.

reason-lacks_training = Lacks the necessary training
reason-lacks_documentation = Lacks the necessary documentation
reason-lacks_support_tools = Lacks the necessary support tools

## How the technician reaches the partner, and in which language.

contact-method-email = Email
contact-method-phone = Phone
language-en = English
language-zh-Hans = Simplified Chinese

## Where an escalation stands.

escalation-status-submitted = Submitted
escalation-status-in_progress = In progress
escalation-status-awaiting_partner = Awaiting the partner
escalation-status-resolved = Resolved
escalation-status-closed = Closed
escalation-status-rejected = Rejected
escalation-status-withdrawn = Withdrawn

## The escalation criteria.

criterion-customer_relationship = The customer is the partner's
criterion-not_partner_tenant = Not the partner's own tenant
criterion-service_escalatable = A service 21Vianet supports
criterion-active_subscription = An active subscription
criterion-escalatable_category = A category 21Vianet handles
criterion-reason_given = Reasons and justification
criterion-partner_troubleshooting = The partner's own troubleshooting
criterion-no_active_incident = No open service incident
criterion-severity_entitlement = Entitled to the severity
criterion-contact_complete = A complete partner contact
criterion-no_duplicate = No duplicate escalation
criterion-partner_in_good_standing = The partner in good standing

## Service health.

incident-severity-information = Information
incident-severity-warning = Warning
incident-severity-critical = Critical
incident-status-investigating = Investigating
incident-status-mitigating = Mitigating
incident-status-resolved = Resolved

## Services, subscriptions, partners and remediation plans.

support-hours-24x7 = Around the clock (24×7)
support-hours-business_hours = Business hours (09:00–18:00 Beijing time, working days)
subscription-status-active = Active
subscription-status-pending = Pending
subscription-status-suspended = Suspended
subscription-status-deleted = Deleted
support-plan-standard = Standard
support-plan-premium = Premium
partner-status-active = Active
partner-status-suspended = Suspended
remediation-status-requested = Requested
remediation-status-acknowledged = Acknowledged
remediation-status-completed = Completed
sla-window-around-the-clock = around the clock, every day
sla-window-daily = every day, holidays included, { $opens } to { $closes } Beijing time
sla-window-business-days = business days on China's calendar, { $opens } to { $closes } Beijing time
