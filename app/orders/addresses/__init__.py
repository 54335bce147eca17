"""Dutch addresses: validation against the BAG through PDOK Locatieserver."""
