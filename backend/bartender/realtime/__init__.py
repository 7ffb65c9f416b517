"""Live stock over WebSocket (`GET /ws`): the hub, its protocol, the push/poll policy and the
Redis link that makes N app processes behave as one server (see docs/realtime.md)."""
