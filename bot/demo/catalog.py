"""The demo shop's catalog: product lines per category, each sold in a few variants.

Names are built as "<line> <variant>", for example "Trailrunner Running Shoes" in
"Trailrunner Running Shoes - Blue". Everything here is data; `seed.py` turns it into rows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProductLine:
    name: str
    category: str
    base_price: float
    description: str
    variants: tuple[str, ...]


CATEGORIES: dict[str, list[tuple[str, float, str]]] = {
    "Footwear": [
        ("Trailrunner Running Shoes", 89.0, "Light trail shoes with a grippy outsole."),
        ("Cloudstep Sneakers", 69.0, "Everyday sneakers with a cushioned sole."),
        ("Summit Hiking Boots", 139.0, "Waterproof leather boots for long hikes."),
        ("Harbor Sandals", 35.0, "Quick-drying sandals for beach and pool."),
        ("Cozy Wool Slippers", 29.0, "Felted wool slippers with a rubber sole."),
        ("Urban Chelsea Boots", 119.0, "Suede Chelsea boots with elastic sides."),
    ],
    "Clothing": [
        ("Everyday Cotton T-Shirt", 19.0, "Organic cotton tee, regular fit."),
        ("Alpine Down Jacket", 189.0, "Packable down jacket rated to -10 C."),
        ("Classic Denim Jeans", 59.0, "Straight-leg jeans in stretch denim."),
        ("Merino Crew Sweater", 79.0, "Fine merino sweater that does not itch."),
        ("Stormshell Rain Jacket", 99.0, "Seam-sealed rain jacket with a hood."),
        ("Flex Yoga Leggings", 45.0, "High-waisted leggings with a side pocket."),
    ],
    "Electronics": [
        ("Pulse Wireless Earbuds", 79.0, "True wireless earbuds, 24 h with the case."),
        ("Boom Bluetooth Speaker", 59.0, "Splash-proof speaker with 12 h battery."),
        ("Volt Power Bank", 39.0, "20,000 mAh power bank with USB-C PD."),
        ("Aurora Smart Watch", 199.0, "Fitness watch with GPS and heart rate."),
        ("Quiet Noise-Cancelling Headphones", 229.0, "Over-ear headphones with ANC."),
        ("Swift USB-C Charger", 29.0, "65 W GaN charger for laptop and phone."),
    ],
    "Home & Kitchen": [
        ("Barista Espresso Machine", 329.0, "15-bar espresso machine with steam wand."),
        ("Chef Cast Iron Skillet", 49.0, "Pre-seasoned 28 cm cast iron skillet."),
        ("Nordic Ceramic Mug Set", 34.0, "Four stoneware mugs, dishwasher safe."),
        ("Pure Bamboo Cutting Board", 25.0, "Large bamboo board with a juice groove."),
        ("Frost Insulated Water Bottle", 27.0, "Keeps drinks cold for 24 hours."),
        ("Crisp Air Fryer", 119.0, "5.5 l air fryer with eight presets."),
    ],
    "Beauty": [
        ("Glow Vitamin C Serum", 32.0, "Brightening serum with 15% vitamin C."),
        ("Hydra Daily Moisturizer", 24.0, "Light moisturizer with hyaluronic acid."),
        ("Calm Lavender Body Lotion", 18.0, "Body lotion with lavender oil."),
        ("Shield Mineral Sunscreen", 22.0, "SPF 50 mineral sunscreen, no white cast."),
        ("Silk Argan Hair Oil", 26.0, "Argan oil for frizz-free hair."),
        ("Fresh Charcoal Face Mask", 19.0, "Clay and charcoal mask for oily skin."),
    ],
    "Sports & Outdoors": [
        ("Zen Yoga Mat", 39.0, "6 mm non-slip yoga mat with a strap."),
        ("Basecamp Camping Tent", 249.0, "Two-person tent, 2.1 kg, three seasons."),
        ("Ridge Trekking Poles", 59.0, "Carbon poles with cork grips."),
        ("Flow Resistance Bands", 24.0, "Set of five latex-free bands."),
        ("Peak Hydration Backpack", 79.0, "15 l pack with a 2 l water bladder."),
        ("Ember Sleeping Bag", 129.0, "Synthetic sleeping bag, comfort 0 C."),
    ],
    "Books & Stationery": [
        ("Inkwell Dotted Notebook", 16.0, "A5 notebook with 160 dotted pages."),
        ("Scribe Fountain Pen", 45.0, "Steel-nib fountain pen with converter."),
        ("Planner Weekly Agenda", 22.0, "Undated weekly planner, linen cover."),
        ("Sketch Watercolor Set", 36.0, "24 half pans and a travel brush."),
        ("Bright Desk Lamp", 49.0, "LED desk lamp with five colour temperatures."),
        ("Focus Desk Organizer", 29.0, "Oak organizer with a phone stand."),
    ],
    "Toys & Games": [
        ("Galaxy Building Blocks", 54.0, "600-piece space station building set."),
        ("Puzzle Master 1000", 19.0, "1,000-piece landscape jigsaw puzzle."),
        ("Speedy Remote Control Car", 65.0, "Off-road RC car, 25 km/h."),
        ("Tiny Wooden Train Set", 42.0, "Beech train set with 40 pieces."),
        ("Strategy Board Game", 39.0, "Two-to-four player strategy game."),
        ("Plush Bear", 21.0, "Soft plush bear, machine washable."),
    ],
    "Pet Supplies": [
        ("Happy Paws Dog Bed", 69.0, "Orthopedic foam dog bed, washable cover."),
        ("Purr Cat Scratching Post", 39.0, "Sisal scratching post with a perch."),
        ("Trail Dog Leash", 24.0, "Reflective leash with a padded handle."),
        ("Crunch Grain-Free Dog Food", 49.0, "10 kg grain-free kibble with salmon."),
        ("Feather Cat Toy Wand", 9.0, "Teaser wand with spare feathers."),
        ("Fresh Pet Water Fountain", 35.0, "Quiet 2 l fountain with a filter."),
    ],
    "Garden": [
        ("Green Thumb Pruning Shears", 29.0, "Bypass pruners with a safety lock."),
        ("Bloom Self-Watering Planter", 34.0, "Planter with a two-week water reservoir."),
        ("Solar Garden Lights", 39.0, "Set of eight warm-white solar lights."),
        ("Sprout Seed Starter Kit", 27.0, "Tray, pots and dome for 40 seedlings."),
        ("Flex Garden Hose", 45.0, "Expandable 30 m hose with a spray nozzle."),
        ("Oak Raised Garden Bed", 149.0, "Untreated oak bed, 120 x 60 cm."),
    ],
}

VARIANTS: dict[str, tuple[str, ...]] = {
    "Footwear": ("Black", "Blue", "Grey", "Sand"),
    "Clothing": ("Black", "Navy", "Olive", "Red"),
    "Electronics": ("Black", "White", "Midnight Blue", "Silver"),
    "Home & Kitchen": ("Black", "White", "Sage", "Steel"),
    "Beauty": ("30 ml", "50 ml", "100 ml", "Travel Size"),
    "Sports & Outdoors": ("Green", "Orange", "Blue", "Charcoal"),
    "Books & Stationery": ("Black", "Blue", "Kraft", "Forest"),
    "Toys & Games": ("Classic", "Deluxe", "Mini", "Family Edition"),
    "Pet Supplies": ("Small", "Medium", "Large", "XL"),
    "Garden": ("Small", "Medium", "Large", "Pro"),
}


def product_lines() -> list[ProductLine]:
    """Every product line of the catalog, in a stable order."""
    return [
        ProductLine(name, category, price, description, VARIANTS[category])
        for category, lines in CATEGORIES.items()
        for name, price, description in lines
    ]
