#!/usr/bin/env python3
"""A synthetic iGOT data warehouse for the batch benchmark (BENCHMARKS.md, "Batch stage").

Writes the four tables the user-enrolment report reads -- user_detail, user_enrolments,
org_hierarchy and content, with the columns of pipelines/igot/sql/warehouse-schema.sql in
its order (the ALTER TABLE columns last) -- as CSV (with a header) and as Parquet
(snappy), under OUT:

    OUT/csv/<table>.csv
    OUT/parquet/<table>.parquet

Deterministic: the same --seed and sizes give the same files. Distributions, after the
fixtures in pipelines/igot/tests/fixtures/warehouse and iGOT's scale: a few hundred MDOs
whose sizes follow a Zipf-like law (a few ministries hold a large share of the users), a
few thousand courses whose popularity is skewed too, ~0.5 % of users without an MDO,
1-20 enrolments per user (mean 5), progress 0 / partial / 100 with status and
certificate to match, sparse optional columns (tags, external system ids, ratings).

    python3 scripts/bench/gen_warehouse.py OUT [--users 2000000] [--enrolments 10000000]
        [--mdos 400] [--courses 3000] [--seed 42] [--formats csv,parquet]

Needs numpy and pyarrow (scripts/bench/batch.sh makes a venv with them).
"""

import argparse
import os
import sys
import time
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FIRST = ("Asha Vikram Meena Rahul Priya Sanjay Farah Arjun Kiran Lata Ravi Neha Anil Sunita "
         "Deepak Pooja Manoj Kavita Suresh Anjali Rajesh Divya Amit Shalini Vijay Rekha Ashok "
         "Nisha Prakash Geeta Mohan Swati Ramesh Jyoti Harish Preeti Naveen Smita Gopal Usha "
         "Imran Fatima Joseph Mary Gurpreet Harpreet Tenzin Lalrin Bhaskar Sarita").split()
LAST = ("Rao Sharma Iyer Verma Nair Gupta Khan Mehta Das Menon Kumar Joshi Singh Patel Reddy "
        "Pillai Mishra Chatterjee Banerjee Mukherjee Yadav Jain Agarwal Bhat Naidu Kulkarni "
        "Desai Shah Chauhan Thakur Pandey Tiwari Saxena Kapoor Malhotra Sinha Dutta Bose "
        "Hegde Shetty Gill Sandhu Ali Fernandes D'Souza Lepcha Sangma Bora Gogoi Panda").split()
DESIGNATIONS = ["Under Secretary", "Section Officer", "Assistant Section Officer", "Deputy Secretary",
                "Director", "Joint Secretary", "Assistant Professor", "Professor", "Clerk",
                "Stenographer", "Research Officer", "Consultant", "Deputy Director", "Intern",
                "Lower Division Clerk", "Upper Division Clerk", "Scientist 'B'", "Accountant",
                'Director "Admin"', "Multi Tasking Staff", "Inspector", "Superintendent"]
GROUPS = ["Group A", "Group B", "Group C", "Group D", None]
GROUP_P = [0.18, 0.27, 0.35, 0.05, 0.15]
TAGS = [None, "mission karmayogi", "rojgaar, mission karmayogi", "rojgaar", "iGOT champion"]
TAG_P = [0.85, 0.07, 0.03, 0.03, 0.02]
ROLES = ["PUBLIC", "PUBLIC, MDO_ADMIN", "PUBLIC, CONTENT_CREATOR", "PUBLIC, MDO_LEADER",
         "PUBLIC, MDO_ADMIN, CONTENT_REVIEWER"]
ROLE_P = [0.95, 0.02, 0.01, 0.01, 0.01]
GENDERS = ["Male", "Female", "Other", None]
GENDER_P = [0.55, 0.35, 0.01, 0.09]
CATEGORIES = ["General", "OBC", "SC", "ST", None]
CATEGORY_P = [0.45, 0.25, 0.1, 0.05, 0.15]
MINISTRIES = ["Ministry of " + m for m in (
    "Education", "Health and Family Welfare", "Finance", "Home Affairs", "Defence", "Railways",
    "External Affairs", "Agriculture and Farmers Welfare", "Rural Development", "Labour and Employment",
    "Electronics and Information Technology", "Environment, Forest and Climate Change", "Power",
    "Road Transport and Highways", "Commerce and Industry", "Culture", "Tourism", "Law and Justice",
    "Personnel, Public Grievances and Pensions", "Women and Child Development", "Jal Shakti",
    "Coal", "Mines", "Steel", "Textiles", "Civil Aviation", "Ports, Shipping and Waterways",
    "Petroleum and Natural Gas", "Housing and Urban Affairs", "Tribal Affairs")]
DEPT_WORDS = ("Higher Education|School Education and Literacy|Revenue|Expenditure|Economic Affairs|"
              "Posts|Telecommunications|Training|Administrative Reforms|Pensions|Consumer Affairs|"
              "Food and Public Distribution|Biotechnology|Science and Technology|Space|Atomic Energy|"
              "Pharmaceuticals|Fertilizers|Sports|Youth Affairs|Land Resources|Drinking Water|"
              "Water Resources|Public Enterprises|Legal Affairs|Justice|Official Language").split("|")
COURSE_WORDS = ("Effective Noting and Drafting|RTI Basics|NEP 2020: An Overview|Digital Classrooms|"
                "Leadership for Civil Servants|Public Procurement|Cyber Security Awareness|"
                "Financial Management|Office Procedures|Ethics in Governance|Data Analytics|"
                "Emotional Intelligence|Project Management|Citizen Centricity|Gender Sensitisation|"
                "Disaster Management|e-Office|GeM Procurement|Prevention of Sexual Harassment|"
                "Yoga Break|Stress Management|Communication Skills|Design Thinking|"
                "Artificial Intelligence for Government|Behavioural Competencies").split("|")
CONTENT_TYPES = ["Course", "Program", "Blended Program", "Curated Program", "Standalone Assessment"]
CONTENT_TYPE_P = [0.82, 0.06, 0.05, 0.05, 0.02]
CONTENT_STATUS = ["Live", "Retired", "Draft", "Review"]
CONTENT_STATUS_P = [0.88, 0.07, 0.03, 0.02]
LANGUAGES = ["English", "Hindi", "English, Hindi", "Tamil", "Bengali"]
LANGUAGE_P = [0.6, 0.25, 0.1, 0.03, 0.02]
GENERATED_ON = "2024-06-14 02:00:30 AM"


def choice(rng, values, p, n):
    """n draws of `values` (None a null) with probabilities p, as an Arrow string array."""
    idx = rng.choice(len(values), size=n, p=np.asarray(p) / np.sum(p))
    return pa.array(values, type=pa.string()).take(pa.array(idx))


def ids(prefix, numbers, width=0):
    """`prefix` followed by each number (zero-padded to `width`), as an Arrow string array."""
    s = pc.cast(pa.array(numbers, type=pa.int64()), pa.string())
    if width:
        s = pc.utf8_lpad(s, width=width, padding="0")
    return pc.binary_join_element_wise(prefix, s, "")


def uuids(rng, n):
    """n UUID-shaped ids (Sunbird's user and certificate ids), from the seeded generator."""
    raw = rng.bytes(16 * n)
    return pa.array([str(uuid.UUID(bytes=raw[i:i + 16])) for i in range(0, 16 * n, 16)],
                    type=pa.string())


def stamp(seconds, fmt="%Y-%m-%d %H:%M:%S"):
    """Epoch seconds as text in `fmt` (UTC)."""
    ts = pa.array(seconds, type=pa.int64()).cast(pa.timestamp("s"))
    return pc.strftime(ts, format=fmt)


def nulls_where(arr, mask):
    """`arr` with nulls where `mask` is true."""
    return pc.if_else(pa.array(mask), pa.nulls(len(arr), arr.type), arr)


def epoch(date):
    return int(np.datetime64(date, "s").astype(np.int64))


def org_hierarchy(rng, n):
    mdo_ids = ids("01", rng.choice(10**17, size=n, replace=False) + 10**17)
    ministry_idx = rng.integers(0, len(MINISTRIES), size=n)
    # The first MDOs of each kind are ministries themselves; the rest departments/organisations.
    kind = rng.choice(3, size=n, p=[0.08, 0.42, 0.5])
    dept = [f"Department of {DEPT_WORDS[i % len(DEPT_WORDS)]}" + (f" {i // len(DEPT_WORDS)}" if i >= len(DEPT_WORDS) else "")
            for i in range(n)]
    names, ministries, depts, orgs = [], [], [], []
    for i in range(n):
        m = MINISTRIES[ministry_idx[i]]
        if kind[i] == 0:
            names.append(m); ministries.append(m); depts.append(None); orgs.append(None)
        elif kind[i] == 1:
            names.append(dept[i]); ministries.append(m); depts.append(dept[i]); orgs.append(dept[i])
        else:
            o = f"{dept[i].replace('Department of ', '')} Training Institute"
            names.append(o); ministries.append(m); depts.append(dept[i]); orgs.append(o)
    created = epoch("2019-01-01") + rng.integers(0, 5 * 365 * 86400, size=n)
    return pa.table({
        "mdo_id": mdo_ids,
        "mdo_name": pa.array(names, pa.string()),
        "is_content_provider": pa.array(np.where(rng.random(n) < 0.15, "Y", "N")),
        "ministry": pa.array(ministries, pa.string()),
        "department": pa.array(depts, pa.string()),
        "organization": pa.array(orgs, pa.string()),
        "data_last_generated_on": pa.array([GENERATED_ON] * n),
        "mdo_created_on": pa.array(created, pa.int64()).cast(pa.timestamp("s")).cast(pa.date32()),
    })


def content(rng, n, orgs):
    providers_mask = np.asarray(orgs["is_content_provider"].to_pylist()) == "Y"
    providers = np.flatnonzero(providers_mask)
    prov = providers[rng.integers(0, len(providers), size=n)]
    ctype_idx = rng.choice(len(CONTENT_TYPES), size=n, p=CONTENT_TYPE_P)
    has_batch = rng.random(n) < 0.9
    batch_no = rng.integers(1, 4, size=n)  # the warehouse keeps one batch per content (its latest)
    published = epoch("2020-01-01") + rng.integers(0, 4 * 365 * 86400, size=n)
    status_idx = rng.choice(len(CONTENT_STATUS), size=n, p=CONTENT_STATUS_P)
    retired = published + rng.integers(30 * 86400, 365 * 86400, size=n)
    blended = CONTENT_TYPES.index("Blended Program") == ctype_idx
    bstart = published + rng.integers(0, 200 * 86400, size=n)
    dur = rng.integers(5 * 60, 20 * 3600, size=n)
    dur_text = [f"{d // 3600:02d}:{d // 60 % 60:02d}:{d % 60:02d}" for d in dur]
    names = [f"{COURSE_WORDS[i % len(COURSE_WORDS)]} ({CONTENT_TYPES[ctype_idx[i]]} {i // len(COURSE_WORDS) + 1})"
             for i in range(n)]
    rating = np.round(rng.uniform(2.5, 5.0, size=n), 1)
    cid = ids("do_", 113800000000000000000 // 10**3 + np.arange(n, dtype=np.int64) * 7919)
    return pa.table({
        "content_id": cid,
        "content_provider_id": orgs["mdo_id"].take(pa.array(prov)),
        "content_provider_name": orgs["mdo_name"].take(pa.array(prov)),
        "content_name": pa.array(names),
        "content_type": pa.array(CONTENT_TYPES, pa.string()).take(pa.array(ctype_idx)),
        "batch_id": nulls_where(ids("01", 3800000000000000 + np.arange(n) * 10 + batch_no), ~has_batch),
        "batch_name": nulls_where(pa.array([f"Cohort {b}" for b in batch_no]), ~blended),
        "batch_start_date": nulls_where(stamp(bstart, "%Y-%m-%d"), ~blended),
        "batch_end_date": nulls_where(stamp(bstart + 90 * 86400, "%Y-%m-%d"), ~blended),
        "content_duration": pa.array(dur_text),
        "content_rating": nulls_where(pa.array(rating), rng.random(n) < 0.3),
        "last_published_on": stamp(published, "%Y-%m-%d"),
        "content_retired_on": nulls_where(stamp(retired, "%Y-%m-%d"), status_idx != 1),
        "content_status": pa.array(CONTENT_STATUS, pa.string()).take(pa.array(status_idx)),
        "resource_count": pa.array(rng.integers(1, 40, size=n), pa.int32()),
        "total_certificates_issued": pa.array(rng.integers(0, 5000, size=n), pa.int32()),
        "content_substatus": nulls_where(pa.array(["InReview"] * n), status_idx != 3),
        "data_last_generated_on": pa.array([GENERATED_ON] * n),
        "language": choice(rng, LANGUAGES, LANGUAGE_P, n),
    })


def user_detail(rng, n, orgs):
    m = len(orgs)
    # Zipf-like MDO sizes: weight 1/rank^1.1, ranks shuffled over the MDOs.
    w = 1.0 / np.arange(1, m + 1) ** 1.1
    w = w[rng.permutation(m)]
    mdo_idx = rng.choice(m, size=n, p=w / w.sum())
    mdo = orgs["mdo_id"].take(pa.array(mdo_idx))
    mdo = nulls_where(mdo, rng.random(n) < 0.005)  # users not (yet) in an MDO: left out of reports
    fi = rng.integers(0, len(FIRST), size=n)
    li = rng.integers(0, len(LAST), size=n)
    first = pa.array(FIRST).take(pa.array(fi))
    last = pa.array(LAST).take(pa.array(li))
    full = pc.binary_join_element_wise(first, last, " ")
    num = pc.cast(pa.array(rng.integers(1, 1000, size=n)), pa.string())
    email = pc.binary_join_element_wise(pc.utf8_lower(first), ".", pc.utf8_lower(last), num,
                                        "@example.gov.in", "")
    phone = ids("9", rng.integers(100000000, 999999999, size=n))
    reg = epoch("2019-06-01") + rng.integers(0, 5 * 365 * 86400, size=n)
    ext = rng.random(n) < 0.05
    return pa.table({
        "user_id": uuids(rng, n),
        "mdo_id": mdo,
        "full_name": full,
        "designation": nulls_where(pa.array(DESIGNATIONS).take(pa.array(rng.integers(0, len(DESIGNATIONS), size=n))),
                                   rng.random(n) < 0.2),
        "email": nulls_where(email, rng.random(n) < 0.05),
        "phone_number": nulls_where(phone, rng.random(n) < 0.4),
        "groups": choice(rng, GROUPS, GROUP_P, n),
        "tag": choice(rng, TAGS, TAG_P, n),
        "roles": choice(rng, ROLES, ROLE_P, n),
        "gender": choice(rng, GENDERS, GENDER_P, n),
        "category": choice(rng, CATEGORIES, CATEGORY_P, n),
        "created_by_id": nulls_where(pa.array(["u_admin"] * n), rng.random(n) < 0.5),
        "external_system": nulls_where(pa.array(["HRMS"] * n), ~ext),
        "external_system_id": nulls_where(ids("EMP-", rng.integers(0, 10**6, size=n), 6), ~ext),
        "is_verified_karmayogi": pa.array(np.where(rng.random(n) < 0.4, "true", "false")),
        "mdo_created_on": pa.nulls(n, pa.date32()),
        "user_registration_date": stamp(reg),
        "data_last_generated_on": pa.array([GENERATED_ON] * n),
        "weekly_claps_day_before_yesterday": nulls_where(pc.cast(pa.array(rng.integers(0, 30, size=n)), pa.string()),
                                                         rng.random(n) < 0.7),
        "status": pa.array(np.where(rng.random(n) < 0.97, 1, 0).astype(np.int32)),
        "no_of_karma_points": pa.array(rng.geometric(0.01, size=n).astype(np.int32) - 1),
        "marked_as_not_my_user": pa.array(rng.random(n) < 0.002),
    })


def user_enrolments(rng, n, users, courses):
    nu = len(users)
    nc = len(courses)
    # Course popularity: Zipf-like over a shuffled order of the courses.
    w = 1.0 / np.arange(1, nc + 1) ** 0.9
    w = w[rng.permutation(nc)]
    # Draw a few more than asked, drop repeated (user, course) pairs, keep n.
    extra = int(n * 1.05) + 1000
    u = rng.integers(0, nu, size=extra).astype(np.int64)
    c = rng.choice(nc, size=extra, p=w / w.sum()).astype(np.int64)
    key = u * nc + c
    _, first = np.unique(key, return_index=True)
    keep = np.sort(first)[:n] if len(first) >= n else np.sort(first)
    if len(keep) < n:
        sys.exit(f"only {len(keep)} distinct enrolments; ask for fewer or more users")
    keep = rng.permutation(keep)  # rows in no particular order, as a table dump is
    u, c = u[keep], c[keep]
    nn = len(u)
    # The enrolment's batch: usually the content's batch (the one the warehouse keeps), else an older one.
    cbatch = courses["batch_id"].take(pa.array(c))
    older = ids("01", 3800000000000000 + c * 10)
    batch = pc.if_else(pc.and_(pc.is_valid(cbatch), pa.array(rng.random(nn) < 0.8)), cbatch, older)
    r = rng.random(nn)
    progress = np.where(r < 0.3, 0.0, np.where(r < 0.65, 100.0, np.round(rng.uniform(1, 99.99, size=nn), 2)))
    progress = progress.astype(np.float32)
    status = np.where(progress == 0, "not-started", np.where(progress >= 100, "completed", "in-progress"))
    completed = progress >= 100
    cert = completed & (rng.random(nn) < 0.9)
    enrolled = epoch("2021-01-01") + rng.integers(0, 3 * 365 * 86400, size=nn)
    done_at = enrolled + rng.integers(3600, 120 * 86400, size=nn)
    accessed = done_at + rng.integers(0, 30 * 86400, size=nn)
    rated = completed & (rng.random(nn) < 0.4)
    rating = np.round(rng.uniform(1, 5, size=nn), 0).astype(np.float32)
    cert_ids = uuids(rng, int(cert.sum()))
    cert_col = np.full(nn, None, dtype=object)
    cert_col[cert] = cert_ids.to_numpy(zero_copy_only=False)
    resources = courses["resource_count"].take(pa.array(c)).to_numpy()
    consumed = np.where(completed, resources, np.floor(progress / 100 * resources)).astype(np.int32)
    return pa.table({
        "user_id": users["user_id"].take(pa.array(u)),
        "batch_id": batch,
        "content_id": courses["content_id"].take(pa.array(c)),
        "content_progress_percentage": pa.array(progress, pa.float32()),
        "last_accessed_on": nulls_where(stamp(accessed), progress == 0),
        "certificate_generated": pa.array(np.where(cert, "Yes", "No")),
        "certificate_generated_on": nulls_where(stamp(done_at + 600), ~cert),
        "user_rating": nulls_where(pa.array(rating, pa.float32()), ~rated),
        "resource_count_consumed": pa.array(consumed, pa.int32()),
        "enrolled_on": stamp(enrolled),
        "user_consumption_status": pa.array(status),
        "data_last_generated_on": pa.array([GENERATED_ON] * nn),
        "live_cbp_plan_mandate": pa.array(rng.random(nn) < 0.1),
        "certificate_id": pa.array(cert_col, pa.string()),
        "first_completed_on": nulls_where(stamp(done_at), ~completed),
    })


def write(table, name, out, formats):
    for f in formats:
        d = os.path.join(out, f)
        os.makedirs(d, exist_ok=True)
        tmp = os.path.join(d, f".{name}.{f}.tmp")
        final = os.path.join(d, f"{name}.{f}")
        t0 = time.time()
        if f == "csv":
            pacsv.write_csv(table, tmp, pacsv.WriteOptions(quoting_style="needed"))
        else:
            pq.write_table(table, tmp, compression="snappy", row_group_size=1 << 20)
        os.replace(tmp, final)
        print(f"  {final}: {table.num_rows:,} rows, {os.path.getsize(final) / 2**20:,.0f} MiB "
              f"({time.time() - t0:.1f} s)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="directory to write into (outside the repository)")
    ap.add_argument("--users", type=int, default=2_000_000)
    ap.add_argument("--enrolments", type=int, default=10_000_000)
    ap.add_argument("--mdos", type=int, default=400)
    ap.add_argument("--courses", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--formats", default="csv,parquet")
    a = ap.parse_args()
    formats = [f for f in a.formats.split(",") if f]
    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    orgs = org_hierarchy(rng, a.mdos)
    write(orgs, "org_hierarchy", a.out, formats)
    courses = content(rng, a.courses, orgs)
    write(courses, "content", a.out, formats)
    users = user_detail(rng, a.users, orgs)
    write(users, "user_detail", a.out, formats)
    enr = user_enrolments(rng, a.enrolments, users, courses)
    write(enr, "user_enrolments", a.out, formats)
    print(f"done in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
