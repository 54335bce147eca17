"""Files kept beside messages: storing them and handing them to people allowed to see them."""
