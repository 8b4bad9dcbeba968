"""Access: staff accounts (Argon2), roles and scope, wall kiosk tokens, the audit log, database roles.

No Flask here: the web layer (`dashboard/security/`) and the CLI (`ioc users`, `ioc wall token`,
`ioc db roles`) both call these functions with an explicit connection.
"""
