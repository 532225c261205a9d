"""Treatment: remedies as spec transforms, and the closed loop that applies them (`fitdoctor fix`)."""
