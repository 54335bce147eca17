"""Channel transports: how a message leaves the building, one interface per kind."""
