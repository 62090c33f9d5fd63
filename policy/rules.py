"""The guard rails as the policy pack names them: pure functions shared with the offline ``plan``.

The rules live in ``components.rules``, below both the pack and the plan, so imports point one
way (``policy`` imports ``components``; nothing in ``components`` imports ``policy``). This
module is the pack's catalogue of them; the pack's config files (``config/*.json``) sit beside it.
"""

from components.rules.inputs import (
    settings_json_problem,
)
from components.rules.model import (
    CONFIG_ALLOW_LOOPBACK,
    CONFIG_ALLOWED_HOSTS,
    CONFIG_MAX_MAPPINGS,
    DEFAULT_ALLOWED_HOSTS,
    DEFAULT_MAX_MAPPINGS,
    DESTINATION_TYPE,
    FLOW_TOKEN_TYPE,
    LOOPBACK_HOSTS,
    SEND_ACTION_ID,
    SUBSCRIPTION_TYPE,
    UNKNOWN,
    WEBHOOKS_ACTIONS_METADATA_ID,
    NotCheckableError,
    PolicyConfig,
    ResourceCheck,
    ResourceRule,
    Severity,
    StackResource,
    StackRule,
    Violation,
)
from components.rules.resource_rules import (
    RESOURCE_RULES,
    check_authorization_header,
    check_destination_settings_secret,
    check_destination_type,
    check_flow_token_fields,
    check_flow_token_secret,
    check_pendula_url,
    check_post_unbatched,
    check_send_action,
    check_settings_json,
    check_subscription_settings_secret,
    check_trigger_fql,
)
from components.rules.stack_rules import (
    STACK_RULES,
    check_mapping_limit,
    check_resource,
    check_stack,
)

__all__ = [
    "CONFIG_ALLOWED_HOSTS",
    "CONFIG_ALLOW_LOOPBACK",
    "CONFIG_MAX_MAPPINGS",
    "DEFAULT_ALLOWED_HOSTS",
    "DEFAULT_MAX_MAPPINGS",
    "DESTINATION_TYPE",
    "FLOW_TOKEN_TYPE",
    "LOOPBACK_HOSTS",
    "RESOURCE_RULES",
    "SEND_ACTION_ID",
    "STACK_RULES",
    "SUBSCRIPTION_TYPE",
    "UNKNOWN",
    "WEBHOOKS_ACTIONS_METADATA_ID",
    "NotCheckableError",
    "PolicyConfig",
    "ResourceCheck",
    "ResourceRule",
    "Severity",
    "StackResource",
    "StackRule",
    "Violation",
    "check_authorization_header",
    "check_destination_settings_secret",
    "check_destination_type",
    "check_flow_token_fields",
    "check_flow_token_secret",
    "check_mapping_limit",
    "check_pendula_url",
    "check_post_unbatched",
    "check_resource",
    "check_send_action",
    "check_settings_json",
    "check_stack",
    "check_subscription_settings_secret",
    "check_trigger_fql",
    "settings_json_problem",
]
