"""Static vocabularies for the synthetic world: names, places, brands, catalogue shape.

Kept as plain tuples so that every draw is an index into a fixed list: the same seed then gives
the same names on every machine (no locale, no faker, no hash randomisation). Lists are long
enough that name collisions between different people stay rare, which the identity matcher
needs in order to tell people apart.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    """A whitespace-separated word list as a tuple (keeps long vocabularies readable)."""
    return tuple(text.split())


MALE_FIRST = _words(
    """
    James Robert John Michael David William Richard Joseph Thomas Christopher Charles Daniel
    Matthew Anthony Mark Donald Steven Andrew Paul Joshua Kenneth Kevin Brian George Timothy
    Ronald Jason Edward Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin
    Scott Brandon Benjamin Samuel Gregory Alexander Patrick Frank Raymond Jack Dennis Jerry
    Tyler Aaron Jose Adam Nathan Henry Zachary Douglas Peter Kyle Noah Ethan Jeremy Walter
    Christian Keith Roger Terry Austin Sean Gerald Carl Harold Dylan Arthur Lawrence Jordan
    Jesse Bryan Billy Bruce Gabriel Joe Logan Alan Juan Albert Willie Elijah Wayne Randy Vincent
    Mason Roy Ralph Bobby Russell Bradley Philip Eugene Louis Harry Howard Curtis Marcus Travis
    Shawn Derek Frederick Leonard Craig Theodore Victor Marvin Dale Clarence Glenn Trevor Calvin
    Mitchell Desmond Malik Darnell Andre Terrence Reginald Cedric Lamar Dwayne Hector Rafael
    Marco Luis Carlos Miguel Diego Javier Omar Tariq Hassan Rajesh Vikram Arjun Kenji Hiroshi
    Wei Jun Dmitri Sergei Nikolai Ivan Lars Sven Anders Magnus Soren Declan Finn Callum Angus
    Rhys Owen Gareth Emmett Silas Jasper Rowan Brody Colton Garrett Wesley Spencer Tanner
    Dominic Quentin Everett Harvey Milton Leroy Otis Virgil
    """
)

FEMALE_FIRST = _words(
    """
    Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty
    Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah
    Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma
    Nicole Helen Samantha Katherine Christine Debra Rachel Carolyn Janet Catherine Maria Heather
    Diane Ruth Julie Olivia Joyce Virginia Victoria Kelly Lauren Christina Joan Evelyn Judith
    Megan Andrea Cheryl Hannah Jacqueline Martha Gloria Teresa Ann Sara Madison Frances Kathryn
    Janice Jean Abigail Alice Judy Sophia Grace Denise Amber Doris Marilyn Danielle Beverly
    Isabella Theresa Diana Natalie Brittany Charlotte Marie Kayla Alexis Lori Priya Ananya Mei
    Yuki Sakura Ingrid Astrid Freya Siobhan Niamh Fiona Imogen Harriet Beatrice Lucinda Rosalind
    Tamsin Yolanda Guadalupe Ximena Lucia Valentina Camila Renata Esperanza Latoya Keisha Ebony
    Tanisha Shanice
    """
)

NICKNAMES: dict[str, str] = {
    "Robert": "Bob",
    "William": "Bill",
    "James": "Jim",
    "Richard": "Rick",
    "Michael": "Mike",
    "Thomas": "Tom",
    "Joseph": "Joe",
    "Charles": "Charlie",
    "Christopher": "Chris",
    "Daniel": "Dan",
    "Matthew": "Matt",
    "Anthony": "Tony",
    "Steven": "Steve",
    "Andrew": "Andy",
    "Joshua": "Josh",
    "Kenneth": "Ken",
    "Edward": "Ed",
    "Ronald": "Ron",
    "Timothy": "Tim",
    "Jonathan": "Jon",
    "Nicholas": "Nick",
    "Benjamin": "Ben",
    "Samuel": "Sam",
    "Gregory": "Greg",
    "Alexander": "Alex",
    "Raymond": "Ray",
    "Lawrence": "Larry",
    "Gerald": "Jerry",
    "Douglas": "Doug",
    "Peter": "Pete",
    "Frederick": "Fred",
    "Theodore": "Ted",
    "Zachary": "Zach",
    "Nathan": "Nate",
    "Patrick": "Pat",
    "Jeffrey": "Jeff",
    "Stephen": "Steve",
    "Leonard": "Len",
    "Mitchell": "Mitch",
    "Elizabeth": "Liz",
    "Jennifer": "Jen",
    "Patricia": "Patty",
    "Margaret": "Peggy",
    "Susan": "Sue",
    "Deborah": "Deb",
    "Rebecca": "Becky",
    "Jessica": "Jess",
    "Katherine": "Kate",
    "Kimberly": "Kim",
    "Pamela": "Pam",
    "Cynthia": "Cindy",
    "Victoria": "Vicky",
    "Abigail": "Abby",
    "Samantha": "Sam",
    "Christine": "Chris",
    "Barbara": "Barb",
    "Kathleen": "Kathy",
    "Stephanie": "Steph",
    "Jacqueline": "Jackie",
    "Dorothy": "Dot",
    "Judith": "Judy",
    "Catherine": "Cathy",
    "Alexis": "Lexi",
}
"""Formal first name -> the nickname some sources store instead."""

LAST_COMMON = _words(
    """
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
    Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips
    Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook
    Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward
    Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez
    Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan
    Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson
    Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera
    Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison
    Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker
    Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason
    Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox
    Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan
    Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos
    Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews
    Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena Richards Contreras Willis
    Carpenter Lawrence Sandoval Okafor Adeyemi Nakamura Yamamoto Kowalski Nowak Novak Lindqvist
    Johansson Larsen Petrov Volkov Dubois Moreau Rossi Russo Ferrari Bianchi Schneider Fischer
    Weber Becker Schulz Kaur Singh Sharma Gupta Reddy Iyer Wong Liu Huang Zhang
    """
)

LAST_PREFIX = _words(
    """
    Ash Black Brad Brook Bur Cald Carl Clay Crane Dal Dart Dun Eld Fair Fal Farn Fen Gar Glen
    Good Gran Green Hal Ham Har Hart Hath Hay Hen Holl Kel Ken Kings Lang Law Lind Lock Mar Mer
    Mid Mill New North Oak Pen Ral Red Ros Rut Sand Shel Stan Stock Sut Thorn Wal War Wel West
    Whit Win Wood Wyn
    """
)
LAST_SUFFIX = _words(
    """
    ford well ton by ley worth wood field more man son stead dale wick burn ridge brook hurst
    croft ham land mont shaw cott bury ling win ett
    """
)

STREET_NAMES = _words(
    """
    Oak Maple Cedar Pine Elm Walnut Birch Willow Spruce Chestnut Hickory Magnolia Sycamore Aspen
    Park Lake Hill River Spring Meadow Valley Forest Ridge Sunset Highland Lincoln Washington
    Jefferson Madison Franklin Adams Jackson Monroe Main Church Mill School Market Union Center
    Prospect Pleasant Fairview Greenwood Lakeview Riverside Woodland Cherry Peach Orchard Harbor
    Bay Shore Summit Canyon Mesa Prairie Heritage Liberty Colonial Windsor Cambridge Oxford
    Dogwood Juniper Laurel Poplar Hawthorne Cypress Redwood Sequoia Bluebonnet Sage Aurora
    Durango Sierra Tahoe Yosemite Shenandoah Chesapeake Savannah
    """
)

STREET_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("Street", "St"),
    ("Avenue", "Ave"),
    ("Road", "Rd"),
    ("Drive", "Dr"),
    ("Lane", "Ln"),
    ("Boulevard", "Blvd"),
    ("Court", "Ct"),
    ("Place", "Pl"),
    ("Way", "Way"),
    ("Terrace", "Ter"),
    ("Circle", "Cir"),
    ("Parkway", "Pkwy"),
)
"""Street type as people write it in full, and the postal abbreviation some sources store."""

# (city, state, first three ZIP digits, phone area code)
CITIES: tuple[tuple[str, str, str, str], ...] = (
    ("New York", "NY", "100", "212"),
    ("Brooklyn", "NY", "112", "718"),
    ("Buffalo", "NY", "142", "716"),
    ("Albany", "NY", "122", "518"),
    ("Boston", "MA", "021", "617"),
    ("Worcester", "MA", "016", "508"),
    ("Providence", "RI", "029", "401"),
    ("Hartford", "CT", "061", "860"),
    ("Newark", "NJ", "071", "973"),
    ("Trenton", "NJ", "086", "609"),
    ("Philadelphia", "PA", "191", "215"),
    ("Pittsburgh", "PA", "152", "412"),
    ("Baltimore", "MD", "212", "410"),
    ("Portland", "ME", "041", "207"),
    ("Burlington", "VT", "054", "802"),
    ("Manchester", "NH", "031", "603"),
    ("Wilmington", "DE", "198", "302"),
    ("Washington", "DC", "200", "202"),
    ("Richmond", "VA", "232", "804"),
    ("Norfolk", "VA", "235", "757"),
    ("Charlotte", "NC", "282", "704"),
    ("Raleigh", "NC", "276", "919"),
    ("Charleston", "SC", "294", "843"),
    ("Atlanta", "GA", "303", "404"),
    ("Savannah", "GA", "314", "912"),
    ("Miami", "FL", "331", "305"),
    ("Orlando", "FL", "328", "407"),
    ("Tampa", "FL", "336", "813"),
    ("Jacksonville", "FL", "322", "904"),
    ("Nashville", "TN", "372", "615"),
    ("Memphis", "TN", "381", "901"),
    ("Birmingham", "AL", "352", "205"),
    ("Jackson", "MS", "392", "601"),
    ("New Orleans", "LA", "701", "504"),
    ("Louisville", "KY", "402", "502"),
    ("Charleston", "WV", "253", "304"),
    ("Little Rock", "AR", "722", "501"),
    ("Chicago", "IL", "606", "312"),
    ("Springfield", "IL", "627", "217"),
    ("Detroit", "MI", "482", "313"),
    ("Grand Rapids", "MI", "495", "616"),
    ("Columbus", "OH", "432", "614"),
    ("Cleveland", "OH", "441", "216"),
    ("Cincinnati", "OH", "452", "513"),
    ("Indianapolis", "IN", "462", "317"),
    ("Milwaukee", "WI", "532", "414"),
    ("Madison", "WI", "537", "608"),
    ("Minneapolis", "MN", "554", "612"),
    ("St. Paul", "MN", "551", "651"),
    ("Des Moines", "IA", "503", "515"),
    ("Kansas City", "MO", "641", "816"),
    ("St. Louis", "MO", "631", "314"),
    ("Omaha", "NE", "681", "402"),
    ("Wichita", "KS", "672", "316"),
    ("Fargo", "ND", "581", "701"),
    ("Sioux Falls", "SD", "571", "605"),
    ("Houston", "TX", "770", "713"),
    ("Dallas", "TX", "752", "214"),
    ("Austin", "TX", "787", "512"),
    ("San Antonio", "TX", "782", "210"),
    ("El Paso", "TX", "799", "915"),
    ("Oklahoma City", "OK", "731", "405"),
    ("Tulsa", "OK", "741", "918"),
    ("Phoenix", "AZ", "850", "602"),
    ("Tucson", "AZ", "857", "520"),
    ("Albuquerque", "NM", "871", "505"),
    ("Las Vegas", "NV", "891", "702"),
    ("Reno", "NV", "895", "775"),
    ("Denver", "CO", "802", "303"),
    ("Colorado Springs", "CO", "809", "719"),
    ("Salt Lake City", "UT", "841", "801"),
    ("Boise", "ID", "837", "208"),
    ("Billings", "MT", "591", "406"),
    ("Cheyenne", "WY", "820", "307"),
    ("Los Angeles", "CA", "900", "213"),
    ("San Diego", "CA", "921", "619"),
    ("San Jose", "CA", "951", "408"),
    ("San Francisco", "CA", "941", "415"),
    ("Sacramento", "CA", "958", "916"),
    ("Fresno", "CA", "937", "559"),
    ("Seattle", "WA", "981", "206"),
    ("Spokane", "WA", "992", "509"),
    ("Portland", "OR", "972", "503"),
    ("Eugene", "OR", "974", "541"),
    ("Anchorage", "AK", "995", "907"),
    ("Honolulu", "HI", "968", "808"),
)

TERRITORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Metro New York", "Northeast", ("NY", "NJ", "CT")),
    ("New England", "Northeast", ("MA", "RI", "ME", "VT", "NH")),
    ("Mid-Atlantic", "Northeast", ("PA", "MD", "DE", "DC")),
    ("Carolinas & Virginia", "Southeast", ("VA", "NC", "SC", "WV")),
    ("Deep South", "Southeast", ("GA", "AL", "MS", "LA", "AR", "TN", "KY")),
    ("Florida", "Southeast", ("FL",)),
    ("Great Lakes", "Midwest", ("IL", "MI", "OH", "IN", "WI")),
    ("Plains", "Midwest", ("MN", "IA", "MO", "NE", "KS", "ND", "SD")),
    ("Texas", "Southwest", ("TX", "OK")),
    ("Desert Southwest", "Southwest", ("AZ", "NM", "NV")),
    ("Mountain", "West", ("CO", "UT", "ID", "MT", "WY")),
    ("Pacific", "West", ("CA", "WA", "OR", "AK", "HI")),
)
"""Sales territories: name, region, states. Every state of CITIES belongs to exactly one."""

EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.36),
    ("yahoo.com", 0.15),
    ("outlook.com", 0.09),
    ("hotmail.com", 0.08),
    ("icloud.com", 0.08),
    ("aol.com", 0.05),
    ("comcast.net", 0.04),
    ("att.net", 0.03),
    ("msn.com", 0.03),
    ("protonmail.com", 0.02),
    ("verizon.net", 0.03),
    ("live.com", 0.04),
)
DOMAIN_TYPOS: dict[str, str] = {
    "gmail.com": "gmial.com",
    "yahoo.com": "yaho.com",
    "outlook.com": "outlok.com",
    "hotmail.com": "hotmial.com",
    "icloud.com": "iclod.com",
    "aol.com": "aol.co",
    "comcast.net": "comcast.com",
    "att.net": "att.com",
    "msn.com": "msn.co",
    "protonmail.com": "protonmal.com",
    "verizon.net": "verizon.com",
    "live.com": "live.co",
}

BRANDS = (
    "Harbor Bay",
    "Oak Hill",
    "Synrgy",
    "True Nation",
    "Liberty Blues",
    "Flag & Anthem",
    "Brooklyn Forge",
    "Summit Line",
    "Capital Tailors",
    "Northfield",
    "Ridgeway Athletic",
    "Cedar Point Outfitters",
    "Mainsail",
    "Iron Crest",
)

# category -> (weight, subcategories, median list price, price spread, sized as apparel)
CATEGORIES: dict[str, tuple[float, tuple[str, ...], float, float, bool]] = {
    "Shirts": (0.16, ("Dress Shirts", "Casual Shirts", "Flannel", "Oxford"), 55.0, 0.35, True),
    "Pants": (0.10, ("Chinos", "Dress Pants", "Cargo"), 65.0, 0.3, True),
    "Jeans": (0.09, ("Straight", "Relaxed", "Bootcut"), 70.0, 0.3, True),
    "Suits": (0.04, ("Two-Piece", "Blazers", "Sport Coats"), 380.0, 0.35, True),
    "Outerwear": (0.07, ("Jackets", "Coats", "Vests", "Rainwear"), 140.0, 0.4, True),
    "Shoes": (0.07, ("Sneakers", "Boots", "Dress Shoes", "Sandals"), 110.0, 0.35, False),
    "Activewear": (0.08, ("Performance Tees", "Track Pants", "Hoodies"), 45.0, 0.35, True),
    "Underwear": (0.06, ("Boxers", "Briefs", "Undershirts", "Socks"), 25.0, 0.3, True),
    "Accessories": (0.07, ("Belts", "Ties", "Hats", "Wallets", "Suspenders"), 35.0, 0.45, False),
    "Polos": (0.10, ("Pique Polos", "Performance Polos"), 50.0, 0.3, True),
    "Sweaters": (0.06, ("Crewneck", "Quarter-Zip", "Cardigans"), 75.0, 0.35, True),
    "Shorts": (0.10, ("Cargo Shorts", "Swim Trunks", "Flat Front"), 42.0, 0.3, True),
}

REGULAR_SIZES = ("S", "M", "L", "XL", "2XL", "3XL", "4XL", "5XL", "6XL")
TALL_SIZES = ("LT", "XLT", "2XLT", "3XLT", "4XLT")

PROMO_CODES: tuple[tuple[str, float], ...] = (
    ("SAVE10", 0.10),
    ("WELCOME15", 0.15),
    ("BIGTALL20", 0.20),
    ("HOLIDAY25", 0.25),
    ("LOYAL10", 0.10),
    ("FITMAP15", 0.15),
)

COMPANY_WORDS = (
    "Acme",
    "Summit",
    "Pioneer",
    "Keystone",
    "Atlas",
    "Beacon",
    "Frontier",
    "Granite",
    "Harbor",
    "Liberty",
    "Meridian",
    "Northstar",
    "Redwood",
    "Sterling",
    "Titan",
    "Vanguard",
)
COMPANY_KINDS = (
    "Logistics",
    "Security",
    "Hospitality",
    "Construction",
    "Transit",
    "Facilities",
    "Dental",
    "Auto Group",
    "Energy",
    "Health",
    "Foods",
    "Airlines",
)
