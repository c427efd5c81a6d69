"""DNS client: transport, wire format, records and resolution."""
