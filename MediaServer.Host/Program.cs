Console.WriteLine("MediaServer");
