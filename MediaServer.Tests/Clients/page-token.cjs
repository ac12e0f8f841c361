// The product page's Node.js token snippet, verbatim but for the key and secret, which come from the
// command line: node page-token.cjs <API_KEY> <SECRET>
var jwt = require("jsonwebtoken");
var uuid4 = require("uuid4");

// Need to generate from app.videosdk.live
const API_KEY = process.argv[2];
const SECRET_KEY = process.argv[3];

jwt.sign(
  {
    apikey: API_KEY,
  },
  SECRET_KEY,
  {
    algorithm: "HS256",
    expiresIn: "24h",
    jwtid: uuid4(),
  },
  function (err, token) {
    console.log(token);
  }
);
