namespace MediaServer.Tests;
