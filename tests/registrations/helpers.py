def registration_data(seat_count=1, buyer_attends=True, attendees=(), **overrides):
    data = {
        "buyer_name": "Maya Johnson",
        "buyer_email": "maya@lincoln.example",
        "organisation": "Lincoln Middle School",
        "role": "school_leader",
        "seat_count": str(seat_count),
        "attendees-TOTAL_FORMS": str(len(attendees)),
        "attendees-INITIAL_FORMS": "0",
        "attendees-MIN_NUM_FORMS": "0",
        "attendees-MAX_NUM_FORMS": "50",
    }
    if buyer_attends:
        data["buyer_attends"] = "on"
    for i, (name, email) in enumerate(attendees):
        data[f"attendees-{i}-name"] = name
        data[f"attendees-{i}-email"] = email
    data.update(overrides)
    return data
