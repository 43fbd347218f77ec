"""Who may see what: principals (users, tokens), their grants, and the permission matrix."""
