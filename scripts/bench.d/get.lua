-- wrk script: GET with the bearer TOKEN.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
