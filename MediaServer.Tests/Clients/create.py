# The product page's Python create-livestream snippet; the host and token come from the command line:
# python3 create.py <base url> <token>
import requests
import sys

url = sys.argv[1] + "/v1/livestreams"

payload = {
  "name": "Nickname for livestream", "record": True,
  "restream": [
      {
          "url": "rtmp://x.rtmp.youtube.com/live2",
          "streamKey": "0tjp-h6a2-8c9d-vusv-01uu"
      }
    ]
}
headers = {
    "Authorization": sys.argv[2],
    "Accept": "application/json",
    "Content-Type": "application/json"
}

response = requests.request("POST", url, json=payload, headers=headers)

print(response.text)
