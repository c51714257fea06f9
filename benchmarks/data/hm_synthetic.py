"""Deterministic synthetic H&M data: the competition's three CSV files, same schema, same shape.

At ``scale=1.0``: ≈105,542 articles, 1,371,980 customers and 31,788,324 transactions over 734 days (2018-09-20 ..
2020-09-22), the figures of ``FULL-STATS.md``; smaller scales shrink all three counts together. The structure:

- heavy-tailed article popularity (log-normal) that fades after each article's launch, with new articles launched
  every week, weekly and yearly seasonality and a spring-2020 dip;
- 19 product groups, the top three (upper, lower, full body garments) ≈ 73% of sales;
- skewed customer activity (≈ 0.7% never buy, mean ≈ 23 purchases per buyer), customers who join and leave,
  age-dependent taste (index group) and channel (online vs store);
- shopping trips of several items, with colour variants and "goes-with" partner articles bought together
  (co-occurrence signal), and repeat purchases of recent items.

Every number comes from ``numpy.random.default_rng`` streams spawned from ``seed``: the files are a function of
``(scale, seed)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

START_DATE = dt.date(2018, 9, 20)
N_DAYS = 734
FULL_ARTICLES = 105_542
FULL_CUSTOMERS = 1_371_980
FULL_TRANSACTIONS = 31_788_324
VERSION = "2"  # changes whenever the generated data change (it names the dataset and its cache folder)
BASKET_P = 0.4  # articles per shopping trip: Geometric(p), mean 1 / p = 2.5
ACTIVITY_SIGMA = 1.42  # spread (log-normal sigma) of how often customers shop

# (product group, share of articles, popularity multiplier, product types, garment group)
PRODUCT_GROUPS: list[tuple[str, float, float, list[str], tuple[int, str]]] = [
    ("Garment Upper body", 0.40, 1.0, ["Sweater", "T-shirt", "Top", "Blouse", "Vest top", "Shirt", "Hoodie", "Jacket", "Cardigan"], (1002, "Jersey Basic")),
    ("Garment Lower body", 0.19, 1.05, ["Trousers", "Shorts", "Skirt", "Leggings/Tights"], (1009, "Trousers")),
    ("Garment Full body", 0.13, 0.95, ["Dress", "Jumpsuit/Playsuit"], (1013, "Dresses Ladies")),
    ("Accessories", 0.105, 0.75, ["Bag", "Earring", "Hat/beanie", "Scarf", "Sunglasses", "Belt"], (1019, "Accessories")),
    ("Underwear", 0.05, 1.1, ["Bra", "Underwear bottom"], (1017, "Under-, Nightwear")),
    ("Shoes", 0.05, 0.6, ["Sneakers", "Boots", "Sandals"], (1020, "Shoes")),
    ("Swimwear", 0.03, 0.8, ["Swimwear bottom", "Bikini top", "Swimsuit"], (1018, "Swimwear")),
    ("Socks & Tights", 0.02, 1.1, ["Socks", "Underwear Tights"], (1021, "Socks and Tights")),
    ("Nightwear", 0.015, 0.8, ["Pyjama set", "Night gown"], (1017, "Under-, Nightwear")),
    ("Unknown", 0.003, 0.4, ["Unknown"], (1001, "Unknown")),
    ("Underwear/nightwear", 0.002, 0.4, ["Underwear body"], (1017, "Under-, Nightwear")),
    ("Cosmetic", 0.001, 0.3, ["Hair clip"], (1019, "Accessories")),
    ("Bags", 0.0008, 0.3, ["Backpack"], (1019, "Accessories")),
    ("Items", 0.0007, 0.3, ["Umbrella"], (1019, "Accessories")),
    ("Furniture", 0.0005, 0.3, ["Side table"], (1001, "Unknown")),
    ("Garment and Shoe care", 0.0004, 0.3, ["Sewing kit"], (1001, "Unknown")),
    ("Stationery", 0.0003, 0.3, ["Marker pen"], (1001, "Unknown")),
    ("Interior textile", 0.0002, 0.3, ["Blanket"], (1001, "Unknown")),
    ("Fun", 0.0001, 0.3, ["Toy"], (1001, "Unknown")),
]
# (index_group_no, index_group_name, index_code, index_name, share of articles, typical buyer age)
INDEX_GROUPS = [
    (1, "Ladieswear", "A", "Ladieswear", 0.37, 42.0),
    (2, "Divided", "D", "Divided", 0.15, 23.0),
    (3, "Menswear", "F", "Menswear", 0.12, 35.0),
    (4, "Baby/Children", "H", "Children Sizes 92-140", 0.30, 36.0),
    (26, "Sport", "S", "Sport", 0.06, 30.0),
]
COLOUR_COLUMNS = ("colour_group_code", "colour_group_name", "perceived_colour_value_id", "perceived_colour_value_name",
                  "perceived_colour_master_id", "perceived_colour_master_name")
COLOURS = [  # the COLOUR_COLUMNS' values, then the share of articles
    (9, "Black", 4, "Dark", 5, "Black", 0.21), (10, "White", 3, "Light", 9, "White", 0.09),
    (73, "Dark Blue", 4, "Dark", 2, "Blue", 0.11), (11, "Off White", 1, "Dusty Light", 9, "White", 0.06),
    (7, "Grey", 2, "Medium Dusty", 12, "Grey", 0.05), (51, "Light Pink", 3, "Light", 4, "Pink", 0.06),
    (13, "Beige", 1, "Dusty Light", 11, "Beige", 0.06), (72, "Blue", 5, "Bright", 2, "Blue", 0.05),
    (42, "Red", 5, "Bright", 18, "Red", 0.04), (62, "Dark Green", 4, "Dark", 19, "Green", 0.04),
    (31, "Light Yellow", 3, "Light", 8, "Yellow", 0.03), (71, "Light Blue", 3, "Light", 2, "Blue", 0.07),
    (52, "Pink", 6, "Medium", 4, "Pink", 0.05), (17, "Yellowish Brown", 6, "Medium", 20, "Mole", 0.04),
    (8, "Dark Grey", 4, "Dark", 12, "Grey", 0.04),
]
APPEARANCES = [(1010016, "Solid", 0.47), (1010001, "All over pattern", 0.16), (1010010, "Melange", 0.06),
               (1010017, "Stripe", 0.06), (1010004, "Denim", 0.04), (1010021, "Lace", 0.03),
               (1010014, "Placement print", 0.11), (1010005, "Check", 0.03), (1010023, "Front print", 0.04)]


@dataclass(frozen=True)
class SyntheticSpec:
    """Sizes of one synthetic dataset: ``scale`` 1.0 is the full competition's; counts scale linearly (with floors)."""

    scale: float
    seed: int = 0

    @property
    def n_articles(self) -> int:
        # the catalogue shrinks slower than the customers: what a customer faces in a week (a
        # few thousand live articles) is what makes the problem hard, at every scale
        return max(200, round(FULL_ARTICLES * min(1.0, self.scale) ** 0.6))

    @property
    def n_customers(self) -> int:
        return max(100, round(FULL_CUSTOMERS * self.scale))

    @property
    def n_transactions(self) -> int:
        return max(2_000, round(FULL_TRANSACTIONS * self.scale))

    @property
    def name(self) -> str:
        return f"hm-synthetic-v{VERSION}(scale={self.scale:g}, seed={self.seed})"


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct 64-character lower-case hex strings (random 256-bit values; a clash is impossible in practice)."""
    raw = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    return np.array([row.tobytes().hex() for row in raw], dtype=object)


def _daily_volume() -> np.ndarray:
    """Relative shopping volume of each of the 734 days: weekday, season, spring-2020 dip."""
    days = np.arange(N_DAYS)
    dates = pd.to_datetime(START_DATE) + pd.to_timedelta(days, unit="D")
    weekday = np.where(dates.day_of_week >= 4, 1.25, 0.9)
    year_phase = 2 * np.pi * (dates.day_of_year.to_numpy() - 170) / 365.25
    season = 1.0 + 0.25 * np.cos(year_phase) + 0.2 * np.exp(-((dates.day_of_year.to_numpy() - 335) / 12.0) ** 2)
    dip = np.where((dates >= "2020-03-15") & (dates <= "2020-05-10"), 0.65, 1.0)
    return weekday * season * dip


def generate_compact(scale: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """The articles and customers tables, and the transactions as compact arrays: ``day`` (days since
    2018-09-20), ``customer`` and ``article`` (row numbers in the tables), ``price``, ``sales_channel_id``."""
    spec = SyntheticSpec(scale, seed)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence([seed, 5]).spawn(8)]
    articles, art = _articles(spec, streams[0])
    customers, cust = _customers(spec, streams[1])
    return articles, customers, _transactions(spec, art, cust, streams[2:])


def _draw(rng: np.random.Generator, table: list[tuple], share: int, size: int) -> np.ndarray:
    """``size`` row indices of ``table``, each drawn in proportion to the row's ``share`` column."""
    weights = np.array([row[share] for row in table])
    return rng.choice(len(table), size=size, p=weights / weights.sum())


def _articles(spec: SyntheticSpec, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    n = spec.n_articles
    # products with 1..k colour variants (≈ 2.2 articles per product code, as in the real data)
    sizes = 1 + rng.poisson(1.25, size=n)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n) + 1]
    sizes[-1] -= sizes.sum() - n
    sizes = sizes[sizes > 0]
    n_products = len(sizes)
    product_codes = np.sort(rng.choice(np.arange(108_775, 959_462), size=n_products, replace=False))
    product_of = np.repeat(np.arange(n_products), sizes)  # (n,)
    variant = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    article_number = product_codes[product_of].astype(np.int64) * 1000 + 1 + variant * 3 + rng.integers(0, 3, size=n)

    product_group = _draw(rng, PRODUCT_GROUPS, 1, n_products)[product_of]
    index_group = _draw(rng, INDEX_GROUPS, 4, n_products)[product_of]
    type_pick = rng.integers(0, 1 << 30, size=n_products)[product_of]
    type_names = np.array([PRODUCT_GROUPS[g][3][t % len(PRODUCT_GROUPS[g][3])] for g, t in zip(product_group, type_pick)], dtype=object)
    colour = _draw(rng, COLOURS, 6, n)
    appearance = _draw(rng, APPEARANCES, 2, n_products)[product_of]
    section = index_group * 4 + rng.integers(0, 4, size=n_products)[product_of]

    # life cycle: a quarter launched before the data starts, the rest every week of the two years
    launch = np.where(rng.random(n_products) < 0.25, rng.integers(-365, 0, size=n_products), rng.integers(0, N_DAYS, size=n_products))
    launch = launch[product_of] + rng.integers(0, 8, size=n)
    lifetime = np.exp(rng.normal(np.log(90.0), 0.7, size=n))  # days until popularity falls by e
    multiplier = np.array([g[2] for g in PRODUCT_GROUPS])[product_group]
    popularity = np.exp(rng.normal(0.0, 1.0, size=n)) * multiplier
    popularity[rng.random(n) < 0.0094] = 0.0  # ≈ 1% of the catalogue never sells
    base_price = np.clip(np.exp(rng.normal(np.log(0.022), 0.55, size=n_products))[product_of] * (0.6 + 0.6 * multiplier), 0.0002, 0.5)
    # a "goes with" partner: an article of another group launched near the same time
    order = np.argsort(launch, kind="stable")
    shift = rng.integers(1, 40, size=n)
    partner = np.empty(n, dtype=np.int64)
    partner[order] = order[np.clip(np.arange(n) + np.where(rng.random(n) < 0.5, shift, -shift), 0, n - 1)]

    hidden = {"product": product_of, "index_group": index_group, "launch": launch, "lifetime": lifetime,
              "popularity": popularity, "price": base_price, "partner": partner, "sizes": sizes}
    return _article_frame(article_number, product_codes[product_of], type_names, product_group, index_group,
                          appearance, colour, section), hidden


def _article_frame(article_number: np.ndarray, product_code: np.ndarray, type_names: np.ndarray, product_group: np.ndarray,
                   index_group: np.ndarray, appearance: np.ndarray, colour: np.ndarray, section: np.ndarray) -> pd.DataFrame:
    """articles.csv's columns, from the drawn codes (one per article)."""
    all_types = sorted({name for g in PRODUCT_GROUPS for name in g[3]})
    type_numbers = {name: 250 + i for i, name in enumerate(all_types)}
    department = product_group * 10 + index_group
    idx = [INDEX_GROUPS[i] for i in index_group]
    return pd.DataFrame({
        "article_id": np.char.zfill(article_number.astype(str), 10),
        "product_code": product_code,
        "prod_name": [f"{t} {c % 997}" for t, c in zip(type_names, product_code)],
        "product_type_no": [type_numbers[t] for t in type_names],
        "product_type_name": type_names,
        "product_group_name": [PRODUCT_GROUPS[g][0] for g in product_group],
        "graphical_appearance_no": [APPEARANCES[a][0] for a in appearance],
        "graphical_appearance_name": [APPEARANCES[a][1] for a in appearance],
        **{name: [COLOURS[c][i] for c in colour] for i, name in enumerate(COLOUR_COLUMNS)},
        "department_no": 1000 + department * 7,
        "department_name": [f"{i[3]} {PRODUCT_GROUPS[g][0].split()[-1]}" for i, g in zip(idx, product_group)],
        "index_code": [i[2] for i in idx],
        "index_name": [i[3] for i in idx],
        "index_group_no": [i[0] for i in idx],
        "index_group_name": [i[1] for i in idx],
        "section_no": 10 + section,
        "section_name": [f"{i[1]} section {s % 4 + 1}" for i, s in zip(idx, section)],
        "garment_group_no": [PRODUCT_GROUPS[g][4][0] for g in product_group],
        "garment_group_name": [PRODUCT_GROUPS[g][4][1] for g in product_group],
        "detail_desc": [f"{COLOURS[c][1]} {t.lower()} in a {APPEARANCES[a][1].lower()} design." for c, t, a in zip(colour, type_names, appearance)],
    })


def _customers(spec: SyntheticSpec, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    n = spec.n_customers
    young = rng.random(n) < 0.42
    age = np.where(young, rng.normal(24.0, 3.5, n), rng.normal(49.0, 11.0, n)).round().clip(16, 99)
    age_out = np.where(rng.random(n) < 0.0116, np.nan, age)
    fn = np.where(rng.random(n) < 0.345, 1.0, np.nan)
    active = np.where((fn == 1.0) & (rng.random(n) < 0.98), 1.0, np.nan)
    club = rng.choice(np.array(["ACTIVE", "PRE-CREATE", "LEFT CLUB", None], dtype=object), size=n, p=[0.9267, 0.0677, 0.0003, 0.0053])
    news = rng.choice(np.array(["NONE", "Regularly", "Monthly", None], dtype=object), size=n, p=[0.6425, 0.3457, 0.0006, 0.0112])
    n_postal = max(10, n // 3)
    postal_ids = _hex_ids(rng, n_postal)
    postal = postal_ids[np.minimum(rng.zipf(1.6, size=n) - 1, n_postal - 1)]
    frame = pd.DataFrame({
        "customer_id": _hex_ids(rng, n), "FN": fn, "Active": active, "club_member_status": club,
        "fashion_news_frequency": news, "age": age_out, "postal_code": postal,
    })
    # hidden traits: activity (log-normal; ≈0.7% never buy), channel, taste, active window
    activity = np.exp(rng.normal(0.0, ACTIVITY_SIGMA, size=n))
    activity[rng.random(n) < 0.00707] = 0.0
    online = 1.0 / (1.0 + np.exp(-(1.0 - 0.045 * (age - 35.0))))
    targets = np.array([g[5] for g in INDEX_GROUPS])
    affinity = np.exp(-((age[:, None] - targets[None, :]) / 9.0) ** 2) * np.array([g[4] for g in INDEX_GROUPS])
    men = rng.random(n) < 0.12
    affinity[men] = np.array([0.05, 0.1, 1.0, 0.1, 0.2])
    cumulative = np.cumsum(affinity / affinity.sum(axis=1, keepdims=True), axis=1)
    taste = (rng.random(n)[:, None] > cumulative).sum(axis=1).clip(0, len(INDEX_GROUPS) - 1)
    start = np.clip(rng.integers(-500, N_DAYS - 14, size=n), 0, None)
    length = rng.exponential(500.0, size=n) + 30
    end = np.minimum(N_DAYS - 1, start + length).astype(np.int64)
    stays = rng.random(n) < 0.55  # most customers are still active at the end
    end[stays] = N_DAYS - 1
    return frame, {"activity": activity, "online": online, "taste": taste, "start": start, "end": end}


def _trips(n_target: int, cust: dict[str, np.ndarray], rng_trip: np.random.Generator) -> tuple[np.ndarray, ...]:
    """1. Shopping trips, enough for ``n_target`` items: (customer row, day, basket size, online) per trip."""
    n_trips = int(n_target * BASKET_P * 1.05) + 10
    weight = cust["activity"] * (cust["end"] - cust["start"] + 1) / N_DAYS
    # every customer who buys at all makes at least one trip; the rest follow activity. The guaranteed trips come
    # first, so cutting the list to the transaction target below only ever drops extra trips
    buyers = np.flatnonzero(weight > 0)
    extra = rng_trip.choice(len(weight), size=max(0, n_trips - len(buyers)), p=weight / weight.sum())
    trip_customer = np.concatenate([buyers, extra])[: max(n_trips, 1)]
    volume = _daily_volume()
    accept = volume / volume.max()
    day = np.empty(n_trips, dtype=np.int64)
    pending = np.arange(n_trips)
    for attempt in range(8):
        lo, hi = cust["start"][trip_customer[pending]], cust["end"][trip_customer[pending]]
        day[pending] = lo + (rng_trip.random(len(pending)) * (hi - lo + 1)).astype(np.int64)
        if attempt == 7:
            break
        pending = pending[rng_trip.random(len(pending)) > accept[day[pending]]]
    basket = rng_trip.geometric(BASKET_P, size=n_trips)
    total = np.cumsum(basket)
    n_trips = int(np.searchsorted(total, n_target) + 1)
    trip_customer, day, basket = trip_customer[:n_trips], day[:n_trips], basket[:n_trips]
    online = rng_trip.random(n_trips) < cust["online"][trip_customer]
    return trip_customer, day, basket, online


def _fresh_picks(art: dict[str, np.ndarray], cust: dict[str, np.ndarray], row_customer: np.ndarray, row_day: np.ndarray,
                 rng_item: np.random.Generator) -> np.ndarray:
    """3. Fresh picks, one article row per item: the week's popularity within the customer's taste segment (or overall)."""
    n, n_articles = len(row_customer), len(art["popularity"])
    segment = np.where(rng_item.random(n) < 0.85, cust["taste"][row_customer], len(INDEX_GROUPS))
    week = row_day // 7
    article = np.empty(n, dtype=np.int64)
    members = [np.flatnonzero(art["index_group"] == g) for g in range(len(INDEX_GROUPS))] + [np.arange(n_articles)]
    order = np.lexsort((segment, week))
    bounds = np.flatnonzero(np.diff(week[order] * 16 + segment[order])) + 1
    for chunk in np.split(order, bounds):
        if not len(chunk):
            continue
        w, s = int(week[chunk[0]]), int(segment[chunk[0]])
        pool = members[s]
        if not len(pool):
            pool = members[-1]
        age_days = w * 7 + 3 - art["launch"][pool]
        fresh_boost = np.where(age_days < 14, 1.8, 1.0)
        season = 1.0 + 0.3 * np.sin(2 * np.pi * (w / 52.0) + (art["product"][pool] % 7))
        p = art["popularity"][pool] * np.where(age_days >= 0, np.exp(-np.maximum(age_days, 0) / art["lifetime"][pool]), 0.0) * fresh_boost * season
        if p.sum() <= 0:
            p = np.where(age_days >= 0, 1.0, 1e-9)
        article[chunk] = pool[rng_item.choice(len(pool), size=len(chunk), p=p / p.sum())]
    return article


def _transactions(spec: SyntheticSpec, art: dict[str, np.ndarray], cust: dict[str, np.ndarray],
                  rngs: list[np.random.Generator]) -> dict[str, np.ndarray]:
    """Transactions as compact arrays (day, customer row, article row, price, channel), sorted by day."""
    rng_trip, rng_item, rng_repeat, rng_price, rng_mix = rngs[:5]
    n_target = spec.n_transactions
    trip_customer, day, basket, online = _trips(n_target, cust, rng_trip)

    # 2. one row per item
    trip = np.repeat(np.arange(len(basket)), basket)[:n_target]
    position = np.arange(len(trip)) - np.repeat(np.cumsum(basket) - basket, basket)[:n_target]
    row_customer, row_day = trip_customer[trip], day[trip]
    n = len(trip)
    article = _fresh_picks(art, cust, row_customer, row_day, rng_item)

    # 4. bought together: later items of a trip are colour variants or partners of the first
    first = article[np.repeat(np.cumsum(basket) - basket, basket)[:n_target]]
    draw = rng_mix.random(n)
    later = position > 0
    starts = np.cumsum(art["sizes"]) - art["sizes"]
    product = art["product"][first]
    sibling = starts[product] + rng_mix.integers(0, 1 << 30, size=n) % art["sizes"][product]
    use_sibling = later & (draw < 0.22)
    use_partner = later & (draw >= 0.22) & (draw < 0.42)
    article[use_sibling] = sibling[use_sibling]
    article[use_partner] = art["partner"][first[use_partner]]
    same_again = later & (draw >= 0.42) & (draw < 0.47)  # two of the same item in one trip
    article[same_again] = first[same_again]

    # 5. repeat purchases: some items are one the customer bought on an earlier day
    order = np.lexsort((trip, row_customer))
    cust_sorted, day_sorted = row_customer[order], row_day[order]
    art_sorted = article[order]
    repeat = rng_repeat.random(n) < 0.4
    back = rng_repeat.integers(1, 6, size=n)
    source = np.arange(n) - back
    ok = repeat & (source >= 0)
    ok[ok] &= (cust_sorted[source[ok]] == cust_sorted[ok]) & (day_sorted[source[ok]] < day_sorted[ok])
    art_sorted[ok] = art_sorted[source[ok]]
    article[order] = art_sorted

    # 6. prices in the normalised unit of the real data (SEK / 59,000), with sales
    sale = (rng_price.random(n) < 0.18) * rng_price.choice(np.array([0.5, 0.6, 0.7]), size=n)
    raw = art["price"][article] * np.where(sale > 0, sale, 1.0) * np.where(online[trip], 1.0, 1.02)
    price = np.maximum(np.round(raw * 5_900) * 10 - 1, 11) / 59_000  # prices end in 9, like SEK 299.9
    final = np.lexsort((row_customer, row_day))
    return {
        "day": row_day[final].astype(np.int16),
        "customer": row_customer[final].astype(np.int32),  # row number in customers
        "article": article[final].astype(np.int32),  # row number in articles
        "price": price[final],
        "sales_channel_id": np.where(online[trip[final]], 2, 1).astype(np.int8),
    }


def write_csvs(directory: Path, scale: float, seed: int = 0) -> dict[str, Path]:
    """Write ``articles.csv``, ``customers.csv`` and ``transactions_train.csv`` into ``directory`` (created):
    ``{"articles": path, "customers": path, "transactions": path}``."""
    import polars as pl

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    articles, customers, compact = generate_compact(scale, seed)
    paths = {name: directory / f"{name}.csv" for name in ("articles", "customers")}
    paths["transactions"] = directory / "transactions_train.csv"
    pl.from_pandas(articles).write_csv(paths["articles"])
    pl.from_pandas(customers).write_csv(paths["customers"])
    # polars gathers the id strings from the compact codes (short strings stay inline: ≈16 bytes a row)
    table = pl.DataFrame({
        "t_dat": pl.Series(compact.pop("day").astype(np.int32) + (START_DATE - dt.date(1970, 1, 1)).days).cast(pl.Date),
        "customer_id": pl.Series(customers["customer_id"].to_numpy().astype(str)).gather(compact.pop("customer")),
        "article_id": pl.Series(articles["article_id"].to_numpy().astype(str)).gather(compact.pop("article")),
        "price": compact.pop("price"),
        "sales_channel_id": compact.pop("sales_channel_id"),
    })
    table.write_csv(paths["transactions"], float_precision=None, date_format="%Y-%m-%d")
    return paths
