"""Finding the customer behind a phone number or an e-mail address."""
