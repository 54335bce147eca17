"""The customer page's handlers: the page itself, its move, call-back and confirm
(``routes.py``), the photos the customer sends (``photos.py``) and the desk's review
of them (``photo_review.py``)."""
