# escalade 的简体中文文案。反引号中的代码是程序发送和比对的值，不随语言改变。
# 此处每条消息都在 en/escalade.ftl 中有对应，参数相同（有测试检查）。
# 术语与世纪互联门户一致：合作伙伴中心、世纪互联、服务运行状况、管理中心、支持请求；
# escalation 统一译为“升级请求”，misescalation 为“不当升级”，critical 严重性为“严重性 A”。

list-separator = 、
list-or = {" 或 "}
clause-separator = ；

## 问题标题：应答的 HTTP 状态。

status-400 = 请求无效
status-401 = 未经授权
status-403 = 禁止访问
status-404 = 未找到
status-405 = 不允许使用此方法
status-408 = 请求超时
status-409 = 冲突
status-410 = 已不再提供
status-412 = 前提条件不满足
status-413 = 请求正文过大
status-415 = 不支持的媒体类型
status-416 = 请求范围无法满足
status-422 = 无法处理的内容
status-428 = 需要前提条件
status-429 = 请求过多
status-500 = 服务器内部错误
status-503 = 服务不可用

## 问题详情。

problem-bad-request = 无法读取该请求
problem-unreadable-body = 无法读取请求正文
problem-malformed-json = 请求正文不是有效的 JSON（第 { $line } 行，第 { $column } 列）
problem-invalid-query = 查询字符串无效
problem-invalid-path-parameter = 路径参数格式不正确
problem-unauthorized = 请使用您组织的账户登录，或使用有效的 API 密钥
problem-forbidden = 角色 `{ $role }` 无权执行此操作；允许的角色：{ $allowed }
problem-not-found = { $resource }不存在
problem-method-not-allowed = 允许的方法：{ $allowed }
problem-duplicate-escalation = 该客户在此服务和类别下已有未关闭的升级请求 { $number }
problem-criteria-not-met = 该升级请求有 { $count } 项不符合世纪互联的升级标准
problem-stale-version = 该资源在您上次读取后已被修改；请重新获取，并使用新的 ETag 重试
problem-body-timeout = 未在 { $seconds } 秒内收到完整的请求正文
problem-body-too-large = 请求正文超过 { $limit } 字节的上限
problem-unsupported-media-type = 请求正文必须为 application/json
problem-if-match-required = 请在 If-Match 标头中提供上次读取时获得的 ETag，以免覆盖他人同时所做的更改
problem-idempotency-key-in-use = 使用此 Idempotency-Key 的请求仍在处理中，请稍后重试
problem-invalid-idempotency-key = Idempotency-Key 必须为 1 到 { $max } 个可见 ASCII 字符
problem-idempotency-key-reused = 此 Idempotency-Key 已用于另一个请求（方法、路径或正文不同）；新请求请使用新的 Idempotency-Key
problem-rate-limited = 此 API 密钥的请求过多，请在 { $seconds } 秒后重试
problem-too-many-failed-authentications = 来自此地址且未携带有效 API 密钥的请求过多，请在 { $seconds } 秒后重试
problem-database-unavailable = 数据库暂时不可用，请稍后重试
problem-database-busy = 数据库繁忙，暂时无法处理此请求，也未做任何更改。请稍后重试。
problem-tenant-not-registered = 您的组织尚未在 escalade 注册：世纪互联将其注册为合作伙伴后，其人员即可登录
problem-role-not-allowed = 您的账户没有您的组织可以担任的 escalade 角色；请联系您组织的管理员为您分配角色
problem-person-disabled = 您对 escalade 的访问已被停用；请联系 escalade 管理员
problem-storage-unavailable = 附件存储暂时不可用，未记录任何内容，请稍后重试
problem-escalation-closed = 仅在升级请求未关闭时才能添加或删除附件；当前状态为 { $status }
problem-too-many-attachments = 该升级请求已有 { $max } 个附件，已达上限；请先删除一个
problem-attachment-too-large = 文件超过允许的最大大小 { $limit } 字节；请压缩或拆分后再上传
problem-attachments-total-too-large = 该升级请求的附件总大小上限为 { $total } 字节，剩余 { $left } 字节；请删除附件或压缩此文件
problem-attachment-kind = 不接受 { $kind } 类型的文件：请附加图片、PDF、文本或日志、JSON 或 HAR，或 zip、gzip 压缩包
problem-attachment-binary = 该文件既不是可接受的二进制类型，也不是 UTF-8 文本：请附加图片、PDF、文本或日志、JSON 或 HAR，或 zip、gzip 压缩包
problem-empty-attachment = 文件为空
problem-not-the-uploader = 只有上传此文件的一方可以删除它
problem-range-not-satisfiable = 请求的范围超出了文件的 { $size } 字节
problem-events-expired = { $after } 之后的事件已不再保留（事件源保留 { $days } 天）；请不带 `after` 从头重新同步
problem-invalid-last-event-id = Last-Event-ID 必须是事件流发送过的事件 ID
problem-too-many-streams = 此 API 密钥或此用户已打开 { $limit } 个事件流，已达上限；请先关闭一个
problem-internal-error = 发生意外错误，已记录到日志
problem-cors-origin = 不允许此来源通过浏览器调用 API
problem-cors-method = 不允许从其他来源使用此方法
problem-cors-headers = 不允许从其他来源发送所请求的标头
problem-cors-malformed = CORS 预检请求格式不正确
problem-partner-own-tenant = 合作伙伴的自有租户不在升级支持范围内，只能为客户提交升级请求
problem-customer-in-use = 该客户存在升级请求，其历史记录须保留，因此无法删除该客户
problem-reopen-window-closed = 该升级请求已于 { $resolved_at } 解决；只能在解决后 { $days } 天内重新打开
problem-invalid-transition = { $count ->
    [0] 处于 { $from } 状态的{ $thing }已是最终状态，无法变为 { $to }
   *[other] 处于 { $from } 状态的{ $thing }无法变为 { $to }；可变为：{ $possible }
}

## 404 中所指的资源。

resource-api-key = API 密钥
resource-customer = 客户
resource-delivery = Webhook 投递记录
resource-event = 事件
resource-attachment = 附件
resource-escalation = 升级请求
resource-partner = 合作伙伴
resource-person = 人员
resource-remediation-plan = 整改计划
resource-route = 路径
resource-service = 服务
resource-service-incident = 服务事件
resource-subscription = 订阅
resource-webhook-endpoint = Webhook 终结点
resource-business-calendar = 该年份的工作日历
resource-other = 资源

## 状态流转的对象。

thing-escalation = 升级请求
thing-incident = 服务事件
thing-remediation-plan = 整改计划
thing-subscription = 订阅
side-operator = 世纪互联支持人员
side-partner = 合作伙伴
move-by-side = { $to }（由{ $side }执行）

## 与已存值的冲突。

conflict-customer-tenant = 您已有使用此 tenant_id 的客户
conflict-partner-mpn-id = 已存在使用此 mpn_id 的合作伙伴
conflict-partner-tenant = 已存在使用此 tenant_id 的合作伙伴
conflict-service-key = 已存在使用此 key 的服务
conflict-subscription-service = 该客户已有此服务的订阅（未删除）

## 字段错误。

fields-invalid = { $count } 个字段无效
field-required = 为必填项
field-filename = 请使用 1 到 { $max } 个字符，不含 /、\ 或控制字符
field-invalid = 无效
field-unknown = 不是此请求支持的字段
field-body-object = 必须是 JSON 对象
field-allowed-values = 必须是以下值之一：{ $values }
field-invalid-type = 必须是{ $expected }
field-invalid-type-unknown = 类型不正确
type-string = 字符串
type-integer = 整数
type-boolean = 布尔值（true 或 false）
type-uuid = 有效的 UUID
type-date-time = 符合 RFC 3339 格式的日期和时间，例如 2026-11-24T09:30:00+08:00
type-date = 日期，例如 2026-11-24
type-list = 列表
type-object = 对象
field-duplicate-values = 不得包含重复的值
field-length-exactly = 长度必须恰好为 { $count }（项数或字符数）
field-length-between = 长度必须为 { $min } 到 { $max }（项数或字符数）
field-length-at-least = 长度至少为 { $min }（项数或字符数）
field-length-at-most = 长度最多为 { $max }（项数或字符数）
field-range-between = 必须介于 { $min } 和 { $max } 之间
field-range-at-least = 不得小于 { $min }
field-range-at-most = 不得大于 { $max }
field-invalid-uuid = 必须是有效的 UUID
field-invalid-year = 必须是 { $first } 到 { $last } 之间的四位数年份，例如 2026
field-invalid-datetime = 必须是符合 RFC 3339 格式的日期和时间，例如 2026-11-24T09:30:00+08:00
field-datetime-out-of-range = 必须在 { $first } 年到 { $last } 年之间
field-invalid-cursor = 必须是上一页返回的 next_cursor 值
field-unknown-event-type = 不是有效的事件类型；事件类型有：{ $types }
field-idempotency-key = 请使用 1 到 { $max } 个可见 ASCII 字符，例如 UUID
field-idempotency-key-reused = 已用于另一个请求
field-partner-own-tenant = 该租户是合作伙伴的自有租户
field-partner-id-required = 创建 partner 角色的密钥时为必填项
field-partner-id-not-allowed = 创建 admin 或 operator 角色的密钥时不得提供
field-reason-required = 状态变为 { $to } 时为必填项
field-misescalation-required = 请说明是否属于不当升级
field-misescalation-not-allowed = 仅在拒绝升级请求时提供
field-engineer-only-when-starting = 仅在开始处理时指派（to: in_progress）
field-engineer-one-way = 工程师可直接填写，或从世纪互联人员中选择，但不能两者同时提供
field-engineer-person-unknown = 不是可以指派的世纪互联人员：请查看人员列表
field-engineer-required-to-start = 开始处理时为必填项
field-engineer-by-operators = 只能由世纪互联支持人员指派
field-respond-by-in-the-past = 必须是今天（北京时间）或之后的日期
field-url-unresolvable = 无法解析该主机名；请使用具有公共 DNS 记录的域名
field-url-not-public = 该主机本身或其解析结果为 { $address }，属于环回、专用、链路本地或保留地址；Webhook 只能发送到公网地址
field-invalid-transition = { $count ->
    [0] 状态 { $from } 已是最终状态，无法再变更
   *[other] 状态 { $from } 只能变为：{ $possible }
}

## 各类值的规则。

invalid-text-length = 长度必须为 { $min } 到 { $max } 个字符，且不能只包含空格
invalid-control-characters = 不得包含控制字符
invalid-paragraph-control-characters = 除换行符和制表符外，不得包含控制字符
invalid-mpn-id = 必须是 1 到 10 位数字的 Microsoft 合作伙伴网络（MPN）ID
invalid-domain = 必须是 DNS 名称，例如 contoso.partner.onmschina.cn；由两个或更多标签组成，标签由字母、数字和中间的连字符构成，最后一个标签须以字母开头（国际化域名请使用 xn-- 形式）
invalid-email = 必须是有效的电子邮件地址，例如 it-ops@contoso.cn
invalid-phone = 必须是国际格式的电话号码，例如 +86 10 5555 0100
invalid-phone-not-in-use = 不是该国家/地区正在使用的号码，请检查国家/地区代码和号码
invalid-time-zone = 必须是 IANA 时区名称，例如 Asia/Shanghai
invalid-country = 必须是大写的 ISO 3166-1 两位字母代码，例如 CN
invalid-search-too-short = 至少需要 { $min } 个字符：一个字符匹配的结果太多，帮不上忙
invalid-search-without-word = 必须包含至少两个相连的字母或数字，例如 星河 或 ntos
invalid-service-key = 必须由 2 到 50 个小写字母和数字组成，各组之间以连字符分隔，例如 microsoft-365
invalid-https-url = 必须是 https:// 地址，例如 https://portal.azure.cn
invalid-webhook-url = 必须是以 http:// 或 https:// 开头的完整地址，例如 https://hooks.example.com/escalade

## 世纪互联的升级标准：每项通过或未通过的原因。

criterion-reasons = { $reasons }
criterion-needs-customer = 需要指定您名下的客户才能判断
criterion-customer-yours = 该客户是您名下的客户
criterion-customer-not-yours = 您名下没有此 ID 的客户
criterion-own-tenant = 该客户是您的自有租户，不在升级支持范围内
criterion-not-own-tenant = 该客户不是您的自有租户
criterion-service-unknown = 服务目录中没有此服务
criterion-service-marketplace = 该服务由 { $operator } 运营，属于市场（第三方）产品，请联系其发布者，而非世纪互联
criterion-service-first-party = 此第一方服务由世纪互联运营
criterion-subscription-active = 该客户的订阅处于活动状态
criterion-subscription-inactive = 该客户的订阅状态为 { $status }，而非活动（active）状态
criterion-subscription-none = 该客户没有此服务的订阅
criterion-category-partner-work = `{ $category }` 类问题应由合作伙伴自行处理，不在世纪互联升级支持范围内
criterion-category-not-accepted = 此服务不受理 `{ $category }` 类问题
criterion-category-handled = 世纪互联受理 `{ $category }` 类问题
criterion-reasons-given = 已提供原因和理由说明
criterion-reason-missing = 请至少选择一项原因：lacks_training、lacks_documentation 或 lacks_support_tools
criterion-justification-missing = 请用至少 { $min } 个字符说明您为何无法自行解决此问题
criterion-try-admin-center = 请先在管理中心尝试解决
criterion-list-a-step = 请至少列出一个已执行的故障排除步骤
criterion-check-health = 请先查看服务运行状况
criterion-health-check-in-future = 服务运行状况的查看时间晚于当前时间
criterion-health-check-stale = 请重新查看服务运行状况（上次查看已超过 24 小时）
criterion-troubleshooting-done = 已尝试管理中心、列出了故障排除步骤，并在 24 小时内查看了服务运行状况
criterion-no-incident = 此服务当前没有未解决的事件
criterion-incidents-unrelated = 此服务所有未解决的事件均已标注为无关
criterion-incidents-open = 此服务有 { $count } 个未解决的事件（{ $incidents }）：请在事件结束后再提交升级请求；如问题与这些事件无关，请将其列入 unrelated_incident_ids
criterion-severity-no-entitlement = 严重性 `{ $severity }` 适用于所有客户，无需满足额外条件
criterion-severity-above-kind = 按照世纪互联的支持计划，{ $kind ->
    [billing] 计费、订阅和配额问题
   *[technical] 技术问题
}最高只能以{ $highest ->
    [moderate] 中等（B）
   *[minimal] 最低（C）
}严重性升级；请选择该严重性或更低的严重性
criterion-critical-needs-premium = 严重性 A（`critical`）仅适用于已签署世纪互联高级协议的客户
criterion-critical-needs-24x7 = 联系人必须可 7×24 小时联系
criterion-critical-needs-phone = 联系人必须可通过电话联系
criterion-critical-entitled = 客户已签署高级协议，联系人可 7×24 小时通过电话联系
criterion-contact-complete = 合作伙伴联系人信息完整
criterion-contact-lacks = 合作伙伴联系人信息缺少：{ $fields }
criterion-duplicate-open = 该客户在此服务和类别下已有未关闭的升级请求 { $number }
criterion-no-duplicate = 该客户在此服务和类别下没有未关闭的升级请求
criterion-partner-suspended = 该合作伙伴已被暂停
criterion-partner-in-good-standing = 该合作伙伴状态良好
criterion-remediation-overdue = 世纪互联要求的 { $count } 个整改计划已逾期未答复

## 自助服务：会导致升级请求不被受理的情况。

advice-marketplace = 此服务由 { $operator } 运营，不在世纪互联升级支持范围内，请联系其发布者
advice-subscription-inactive = 该客户的订阅状态为 { $status }，只有处于活动状态的订阅才能提交升级请求
advice-incidents-open = 此服务有 { $count } 个未解决的事件：请在事件结束后问题仍然存在时再提交升级请求；如问题与这些事件无关，请将其标注为无关

## 升级质量。

quality-summary = 最近 { $days } 天共 { $escalations } 个升级请求，其中 { $misescalations } 个因不当升级被拒绝（{ $rate }%）：{ $verdict ->
    [exceeds] 已达到或超过 { $threshold }% 的阈值，世纪互联可能会要求制定整改计划。
    [too-few] 升级请求数量过少，暂不评估（至少需要 { $min } 个）。
   *[within] 低于 { $threshold }% 的阈值。
}

## 值的名称（词汇表）：问题类别。

category-service_unavailable = 服务不可用
category-undocumented_defect = 文档中未说明的缺陷
category-product_bug = 产品缺陷（Bug）
category-network_disruption = 网络中断
category-regional_multi_tenant_issue = 区域性多租户问题
category-billing_dispute = 账单争议
category-how_to = 操作方法咨询
category-account_setup = 帐户设置
category-software_configuration = 软件配置
category-client_connectivity = 客户端连接和桌面
category-service_update_question = 服务更新咨询
category-performance_within_partner_control = 合作伙伴可控范围内的性能问题

## 升级请求的严重性。

severity-critical = 严重（A）
severity-moderate = 中等（B）
severity-minimal = 最低（C）

## 合作伙伴无法自行解决问题的原因。

reason-lacks_training = 缺少必要的培训
reason-lacks_documentation = 缺少必要的文档
reason-lacks_support_tools = 缺少必要的支持工具

## 技术支持工程师联系合作伙伴的方式和语言。

contact-method-email = 电子邮件
contact-method-phone = 电话
language-en = 英语
language-zh-Hans = 简体中文

## 升级请求的状态。

escalation-status-submitted = 已提交
escalation-status-in_progress = 处理中
escalation-status-awaiting_partner = 等待合作伙伴回复
escalation-status-resolved = 已解决
escalation-status-closed = 已关闭
escalation-status-rejected = 已拒绝
escalation-status-withdrawn = 已撤回

## 升级标准。

criterion-customer_relationship = 客户属于该合作伙伴
criterion-not_partner_tenant = 非合作伙伴自有租户
criterion-service_escalatable = 服务由世纪互联提供支持
criterion-active_subscription = 订阅处于活动状态
criterion-escalatable_category = 问题类别属于升级支持范围
criterion-reason_given = 原因及理由
criterion-partner_troubleshooting = 合作伙伴已自行排查
criterion-no_active_incident = 无未解决的服务事件
criterion-severity_entitlement = 符合严重性要求
criterion-contact_complete = 合作伙伴联系人信息完整
criterion-no_duplicate = 无重复的升级请求
criterion-partner_in_good_standing = 合作伙伴状态良好

## 服务运行状况。

incident-severity-information = 信息
incident-severity-warning = 警告
incident-severity-critical = 严重
incident-status-investigating = 正在调查
incident-status-mitigating = 正在缓解
incident-status-resolved = 已解决

## 服务、订阅、合作伙伴和整改计划。

support-hours-24x7 = 7×24 小时
support-hours-business_hours = 工作时间（北京时间工作日 9:00–18:00）
subscription-status-active = 活动
subscription-status-pending = 待定
subscription-status-suspended = 已暂停
subscription-status-deleted = 已删除
support-plan-standard = 标准
support-plan-premium = 高级
partner-status-active = 活动
partner-status-suspended = 已暂停
remediation-status-requested = 已要求
remediation-status-acknowledged = 已确认
remediation-status-completed = 已完成
sla-window-around-the-clock = 全天候，每天 24 小时
sla-window-daily = 每天（含节假日）北京时间 { $opens } 至 { $closes }
sla-window-business-days = 中国工作日北京时间 { $opens } 至 { $closes }
