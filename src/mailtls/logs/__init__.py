"""Mail logs -> sessions -> who still uses TLS 1.0/1.1 or plaintext (``mailtls logs``)."""
