"""Set-up for the phone-view tests: a technician's visit today, and small real images."""

from __future__ import annotations

import struct
import zlib
from datetime import date

from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.models import Address, LineItem, Order
from app.platform.models.enums import AddressType, ChannelType, OrderStatus
from tests.support import factories


def png_bytes(
    width: int = 4, height: int = 3, *, rows: bytes | None = None, colour: int = 2
) -> bytes:
    """A valid PNG, built by hand (no imaging library needed): RGB unless ``colour`` says.

    ``rows`` is the image data before compression (each row its filter byte first).
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    if rows is None:
        rows = b"".join(b"\x00" + b"\x20\x80\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def signature_png(width: int = 60, height: int = 30, *, ink: bool = True) -> bytes:
    """An RGBA PNG as a canvas gives it: transparent, with one dark stroke if ``ink``.

    Rows use the Sub filter (type 1), as browsers' encoders often do.
    """
    rows = []
    for y in range(height):
        pixels = bytearray(4 * width)
        if ink and y == height // 2:
            pixels[4 * 5 : 4 * 6] = b"\x10\x23\x3f\xff"
        rows.append(b"\x01" + bytes(pixels))
    return png_bytes(width, height, rows=b"".join(rows), colour=6)


JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
HEIC_HEAD = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
WEBP_HEAD = b"RIFF\x24\x00\x00\x00WEBPVP8 "


def visit(
    technician,
    *,
    number: str = "CC-2026-00042",
    status: OrderStatus = OrderStatus.SCHEDULED,
    day: date | None = None,
    with_whatsapp: bool = True,
    contact_fields: dict | None = None,
    preferences: dict | None = None,
    **fields,
) -> Order:
    """An order of ``technician`` on ``day`` (today), with customer, address and lines."""
    if with_whatsapp:
        factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    contact = factories.contact(
        **{
            "display_name": "Jan Jansen",
            "first_name": "Jan",
            "phone": "+31612345678",
            "email": "jan@example.nl",
            **(contact_fields or {}),
        }
    )
    address = Address(
        address_type=AddressType.INSTALLATION,
        street="Stationsstraat",
        house_number="12",
        house_number_addition="A",
        postal_code="3511 AB",
        city="Utrecht",
        contact_id=contact.id,
    )
    db.session.add(address)
    db.session.flush()
    order = Order(
        order_number=number,
        status=status,
        end_customer_contact_id=contact.id,
        installation_address_id=address.id,
        assigned_technician_id=technician.id if technician else None,
        scheduled_date=day or local_today(),
        installation_preferences={
            "access_notes": "Sleutel ligt bij de buren (nr. 14)",
            "time_window": "ochtend",
            **(preferences or {}),
        },
        notes="Meterkast in de garage",
        **fields,
    )
    db.session.add(order)
    db.session.flush()
    db.session.add_all(
        [
            LineItem(order_id=order.id, description="Alfen Eve Single S-line 11 kW", line_order=1),
            LineItem(
                order_id=order.id,
                description="Installatie tot 10 m kabel",
                quantity=1,
                line_order=2,
            ),
        ]
    )
    db.session.commit()
    return order


def sign_on_canvas(page, canvas) -> None:
    """Draw a signature on ``canvas`` (a locator) with a finger: real touch events
    through the DevTools protocol, the way a phone's screen sends them (Playwright's
    own touchscreen only taps). The page must come from a ``has_touch`` context."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    left, top = box["x"] + 20, box["y"] + box["height"] * 0.6
    width = box["width"] - 40
    devtools = page.context.new_cdp_session(page)
    try:
        for stroke in (
            [(0.0, 0.0), (0.1, -0.3), (0.2, 0.1), (0.3, -0.25), (0.45, 0.05), (0.6, -0.2)],
            [(0.65, 0.0), (0.8, -0.35), (0.9, 0.05), (1.0, -0.1)],
        ):
            points = [(left + x * width, top + y * box["height"]) for x, y in stroke]
            devtools.send(
                "Input.dispatchTouchEvent",
                {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]},
            )
            for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
                for step in range(1, 6):
                    x, y = x0 + (x1 - x0) * step / 5, y0 + (y1 - y0) * step / 5
                    devtools.send(
                        "Input.dispatchTouchEvent",
                        {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]},
                    )
            devtools.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        devtools.detach()
