"""Every package's data access, offered on one object: a unit of work (`uow.orders.insert_order(...)`,
`uow.stock.reserve(...)`) or, for reads outside any transaction, a reader of the request's session.

Business functions reach the database only through these attributes, so the unit tests can hand
them a fake unit of work (tests/unit/fakes.py) instead.
"""
from __future__ import annotations

from .accounts.repository import AccountRepository
from .addresses.repository import AddressRepository
from .catalog.repository import CatalogRepository
from .channels.outbox import ChannelWriteback
from .channels.repository import ChannelRepository
from .dayend.repository import DayEndRepository
from .devices.repository import DeviceRepository
from .escalation.repository import EscalationRepository
from .extensions import db
from .infra.unit_of_work import SessionReads, UnitOfWork
from .locations.repository import LocationRepository
from .messages.repository import MessageRepository
from .orders.repository import OrderRepository
from .payments.refunds import OrderRefunds
from .payments.repository import PaymentRepository
from .pickup.codes import OrderPickupCodes
from .pickup.repository import PickupRepository
from .returns.repository import ReturnRepository
from .shifts.repository import ShiftRepository
from .stock.repository import StockRepository
from .weighing.repository import WeighingRepository


class Repositories:
    """Repositories on `self.connection` (and `self.session`, created only where the ORM is used).
    Each access builds a small object: nothing is cached, so no reference cycle outlives the unit."""

    @property
    def accounts(self) -> AccountRepository:
        """Who a staff member or a member is (names for receipts and answers); deactivation and
        password changes."""
        return AccountRepository(self)

    @property
    def orders(self) -> OrderRepository:
        return OrderRepository(self.connection)

    @property
    def stock(self) -> StockRepository:
        return StockRepository(self.connection)

    @property
    def catalog(self) -> CatalogRepository:
        return CatalogRepository(self.connection)

    @property
    def escalations(self) -> EscalationRepository:
        """Orders escalated for waiting too long to be accepted."""
        return EscalationRepository(self.connection)

    @property
    def locations(self) -> LocationRepository:
        return LocationRepository(self.session)

    @property
    def messages(self) -> MessageRepository:
        """The member's message centre."""
        return MessageRepository(self.connection)

    @property
    def payments(self) -> PaymentRepository:
        return PaymentRepository(self)

    @property
    def refunds(self) -> OrderRefunds:
        """The refund port of the orders package."""
        return OrderRefunds(self)

    @property
    def returns(self) -> ReturnRepository:
        """Members' returns (退货)."""
        return ReturnRepository(self)

    @property
    def weighings(self) -> WeighingRepository:
        """Re-weighing: the settlement port of the orders package (goods leave once every line is settled)."""
        return WeighingRepository(self.connection)

    @property
    def devices(self) -> DeviceRepository:
        """Hardware bridges and their print jobs."""
        return DeviceRepository(self.session)

    @property
    def addresses(self) -> AddressRepository:
        """Members' saved delivery addresses."""
        return AddressRepository(self)

    @property
    def pickup(self) -> PickupRepository:
        """Pickup codes, verification attempts and the guess throttle."""
        return PickupRepository(self.connection)

    @property
    def channels(self) -> ChannelRepository:
        """Third-party platforms' orders and the write-back outbox."""
        return ChannelRepository(self.connection)

    @property
    def channel_writeback(self) -> ChannelWriteback:
        """The write-back port of the orders package (a platform's order changed status)."""
        return ChannelWriteback(self)

    @property
    def day_ends(self) -> DayEndRepository:
        """Closed business days (日结) and their snapshots; an open day's movements."""
        return DayEndRepository(self.connection)

    @property
    def shifts(self) -> ShiftRepository:
        """Shift handovers (交接班) and the drawer's cash movements."""
        return ShiftRepository(self.connection)

    @property
    def pickup_codes(self) -> OrderPickupCodes:
        """The pickup-code port of the orders package."""
        return OrderPickupCodes(self)


class StoreLinkUnitOfWork(Repositories, UnitOfWork):
    """The unit of work StoreLink runs: one transaction, with every repository on its connection."""


class Reader(Repositories, SessionReads):
    """Repositories on the request's session (Flask-SQLAlchemy's), for reads outside a unit of work."""


def reader() -> Reader:
    return Reader(db.session)
