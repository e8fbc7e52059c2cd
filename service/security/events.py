"""The audit kinds that are security events: what admins review on /admin/security and with
GET /api/v1/audit?security=true."""

SECURITY_EVENTS = (
    "login", "login_failed", "login_throttled", "login_refused_locked", "logout",
    "account_locked", "account_unlocked", "user_deactivated", "user_created", "role_granted", "user_saved",
    "token_created", "token_revoked",
    "substitute_added", "substitute_approved", "substitute_ended",
)
