"""The financed-phone lock (锁机): per-device check-in tokens issued at handover, the lock policy applied by
close-of-business and by payments, signed check-in answers the lock agent verifies offline, and the
history of every state change."""
